using System.Diagnostics;
using System.Text.Json.Nodes;
using Conformance.Harness.Drivers;
using Conformance.Harness.Tests.Drivers;

namespace Conformance.Harness.Tests.TwoProcess;

/// <summary>
/// Reference ↔ reference as two separate processes: two `conformance agent` processes (agents/reference/agent.json,
/// started by the <see cref="ProcessDriver"/>) that know nothing of each other, driven only through their AATH
/// backchannels (shared/specs/aath/backchannel-openapi.yml), manual-accept style, exactly as the harness drives an
/// external agent. Every flow ends with both sides in their final state, read back through the backchannels:
/// RFC 0160 connection state "active" (AATH ConnectionState), RFC 0023 "completed" (AATH DidExchangeState).
/// Once over HTTP (the agents advertise their HTTP endpoint) and once over WebSocket (`--ws-only`: they advertise only
/// ws://, so every DIDComm message crosses a WebSocket). The two processes serve every test of a fixture.
/// </summary>
[TestFixture("http")]
[TestFixture("ws")]
[Category("TwoProcess")]
[NonParallelizable]
public class TwoProcessFlowTests(string transport)
{
    private const string DidExchange11 = "https://didcomm.org/didexchange/1.1";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private ProcessDriver _alice = null!;
    private ProcessDriver _bob = null!;
    private BackchannelClient A => _alice.Backchannel;
    private BackchannelClient B => _bob.Backchannel;

    [OneTimeSetUp]
    public async Task StartTwoAgents()
    {
        var reference = AgentDefinition.Find(DriverTestSupport.RepoRoot, "reference");
        var definition = transport == "ws" ? WithArgs(reference, "--ws-only") : reference;
        var logs = DriverTestSupport.Scratch("two-process-" + transport);
        _alice = new ProcessDriver(definition, new LaunchOptions { LogDirectory = logs, RunId = "alice" });
        _bob = new ProcessDriver(definition, new LaunchOptions { LogDirectory = logs, RunId = "bob" });
        await Task.WhenAll(_alice.StartAsync(), _bob.StartAsync());
        TestContext.Out.WriteLine($"two agents over {transport}: pids {_alice.Pid} and {_bob.Pid}, ready after " +
                                  $"{_alice.TimeToReady!.Value.TotalMilliseconds:0} / {_bob.TimeToReady!.Value.TotalMilliseconds:0} ms; logs {logs}");
    }

    [OneTimeTearDown]
    public async Task StopTwoAgents()
    {
        if (_alice != null) await _alice.DisposeAsync();
        if (_bob != null) await _bob.DisposeAsync();
    }

    [Test]
    public async Task Each_agent_advertises_only_the_transport_of_this_fixture()
    {
        // agent/start without inbound_transports just reports what the agent advertises.
        foreach (var bc in new[] { A, B })
        {
            var started = await bc.StartAsync(new JsonObject());
            var endpoints = started["endpoints"]!.AsArray().Select(e => e!.GetValue<string>()).ToList();
            Assert.That(endpoints, Has.Count.EqualTo(1));
            Assert.That(endpoints[0], Does.StartWith(transport + "://127.0.0.1:"));
        }
    }

    // ------------------------------------------------------------------ RFC 0160 connections/1.0, both roles

    [TestCase("alice invites bob")]
    [TestCase("bob invites alice")]
    public async Task Connections_1_0_both_sides_reach_active(string roles)
    {
        var (inviter, invitee) = roles.StartsWith("alice") ? (A, B) : (B, A);

        var created = await inviter.ConnectionCreateInvitationAsync();
        var inviterId = Str(created, "connection_id");
        var invitation = created["invitation"]!.AsObject();
        Assert.That(Str(invitation, "@type"), Does.EndWith("connections/1.0/invitation"));
        Assert.That(Str(invitation, "serviceEndpoint"), Does.StartWith(transport + "://"), "the invitation names the advertised endpoint");

        var received = await invitee.ConnectionReceiveInvitationAsync((JsonObject)invitation.DeepClone());
        var inviteeId = Str(received, "connection_id");
        Assert.That(Str(received, "state"), Is.EqualTo("invitation"));

        await invitee.ConnectionAcceptInvitationAsync(inviteeId);
        await WaitForAsync(inviter, inviterId, "request", ConnectionState);
        await inviter.ConnectionAcceptRequestAsync(inviterId);

        var inviteeRecord = await WaitForAsync(invitee, inviteeId, "active", ConnectionState);
        var inviterRecord = await WaitForAsync(inviter, inviterId, "active", ConnectionState);
        var mine = inviteeRecord["connection"]!.AsObject();
        var theirs = inviterRecord["connection"]!.AsObject();
        Assert.Multiple(() =>
        {
            Assert.That(Str(mine, "protocol"), Is.EqualTo("connections/1.0"));
            Assert.That(Str(theirs, "protocol"), Is.EqualTo("connections/1.0"));
            Assert.That(mine["role"]!.ToJsonString(), Is.Not.EqualTo(theirs["role"]!.ToJsonString()), "one inviter, one invitee");
            // Each side holds the other's DID: the exchange really went between these two processes.
            Assert.That(Str(mine, "their_did"), Is.EqualTo(Str(theirs, "my_did")));
            Assert.That(Str(theirs, "their_did"), Is.EqualTo(Str(mine, "my_did")));
            Assert.That(Str(mine, "thread_id"), Is.EqualTo(Str(theirs, "thread_id")), "one thread: the request's @id");
            Assert.That(Str(mine["their_service"]!.AsObject(), "endpoint"), Does.StartWith(transport + "://"));
        });

        // The connection carries messages: a trust ping from the invitee keeps both sides active.
        await invitee.ConnectionSendPingAsync(inviteeId, "two-process ping");
        await WaitForAsync(inviter, inviterId, "active", ConnectionState);
    }

    // ------------------------------------------------------------------ RFC 0023 didexchange 1.1 over RFC 0434 out-of-band

    [TestCase("alice invites bob")]
    [TestCase("bob invites alice")]
    public async Task DidExchange_1_1_over_out_of_band_both_sides_reach_completed(string roles)
    {
        var (inviter, invitee) = roles.StartsWith("alice") ? (A, B) : (B, A);
        var (inviterId, inviteeId, invitationId) = await DidExchangeAsync(inviter, invitee, usePublicDid: false);

        var requester = (await invitee.DidExchangeAsync(inviteeId))["connection"]!.AsObject();
        var responder = (await inviter.DidExchangeAsync(inviterId))["connection"]!.AsObject();
        Assert.Multiple(() =>
        {
            Assert.That(Str(requester, "protocol"), Is.EqualTo("didexchange/1.1"));
            Assert.That(Str(responder, "protocol"), Is.EqualTo("didexchange/1.1"));
            Assert.That(Str(requester, "parent_thread_id"), Is.EqualTo(invitationId), "the request's pthid is the invitation @id");
            Assert.That(Str(responder, "parent_thread_id"), Is.EqualTo(invitationId));
            Assert.That(Str(requester, "thread_id"), Is.EqualTo(Str(responder, "thread_id")));
            Assert.That(Str(requester, "their_did"), Is.EqualTo(Str(responder, "my_did")));
            Assert.That(Str(responder, "their_did"), Is.EqualTo(Str(requester, "my_did")));
            Assert.That(Str(requester, "my_did"), Does.StartWith("did:peer:4"), "the reference agent's default DID method");
            // RFC 0023 states, in order, on both sides.
            Assert.That(requester["history"]!.AsArray().Select(s => s!.GetValue<string>()),
                Is.EqualTo(new[] { "start", "invitation-received", "request-sent", "response-received", "completed" }));
            Assert.That(responder["history"]!.AsArray().Select(s => s!.GetValue<string>()),
                Is.EqualTo(new[] { "start", "request-received", "response-sent", "completed" }));
        });
    }

    // ------------------------------------------------------------------ RFC 0434 reuse

    [Test]
    public async Task Out_of_band_reuse_keeps_the_existing_connection_on_both_sides()
    {
        // A public-DID invitation: a later invitation naming the same DID lets the receiver recognise the inviter.
        var (aliceId, bobId, _) = await DidExchangeAsync(A, B, usePublicDid: true);
        var aliceBefore = (await A.ConnectionsAsync()).Count;
        var bobBefore = (await B.ConnectionsAsync()).Count;

        var second = await A.OobSendInvitationMessageAsync(new JsonObject
        {
            ["handshake_protocols"] = new JsonArray(DidExchange11),
            ["use_public_did"] = true,
        });
        var invitation = second["invitation"]!.AsObject();
        Assert.That(invitation["services"]!.AsArray().Single()!.GetValue<string>(), Does.StartWith("did:web:"));
        var reused = await B.OobReceiveInvitationAsync(invitation, useExistingConnection: true);

        Assert.Multiple(() =>
        {
            Assert.That(reused["reused"]!.GetValue<bool>(), Is.True, "the receiver reused the connection: " + reused.ToJsonString());
            Assert.That(Str(reused, "connection_id"), Is.EqualTo(bobId), "the existing connection, not a new one");
            Assert.That(Str(reused, "state"), Is.EqualTo("completed"));
        });
        // handshake-reuse / handshake-reuse-accepted travel on the existing connection and change nothing: no side
        // starts a new connection, and the existing one stays completed on both sides.
        await Task.Delay(500);
        Assert.Multiple(async () =>
        {
            Assert.That((await A.ConnectionsAsync()).Count, Is.EqualTo(aliceBefore), "the inviter made no new connection");
            Assert.That((await B.ConnectionsAsync()).Count, Is.EqualTo(bobBefore), "the receiver made no new connection");
            Assert.That(Str(await A.DidExchangeAsync(aliceId), "state"), Is.EqualTo("completed"));
            Assert.That(Str(await B.DidExchangeAsync(bobId), "state"), Is.EqualTo("completed"));
        });
        // And the reused connection still carries messages.
        await B.ConnectionSendPingAsync(bobId, "after reuse");
        Assert.That(Str(await A.DidExchangeAsync(aliceId), "state"), Is.EqualTo("completed"));
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>
    /// The AATH didexchange flow: inviter send-invitation-message → invitee receive-invitation → send-request →
    /// inviter (finds its connection by the invitation @id) send-response → both completed.
    /// </summary>
    private async Task<(string InviterId, string InviteeId, string InvitationId)> DidExchangeAsync(BackchannelClient inviter, BackchannelClient invitee, bool usePublicDid)
    {
        var sent = await inviter.OobSendInvitationMessageAsync(new JsonObject
        {
            ["handshake_protocols"] = new JsonArray(DidExchange11),
            ["use_public_did"] = usePublicDid,
        });
        var invitation = sent["invitation"]!.AsObject();
        var invitationId = Str(invitation, "@id");
        Assert.That(invitation["handshake_protocols"]!.AsArray().Select(p => p!.GetValue<string>()), Is.EqualTo(new[] { DidExchange11 }));

        var received = await invitee.OobReceiveInvitationAsync((JsonObject)invitation.DeepClone(), useExistingConnection: false);
        var inviteeId = Str(received, "connection_id");
        Assert.That(Str(received, "state"), Is.EqualTo("invitation-received"));
        var requested = await invitee.DidExchangeSendRequestAsync(inviteeId);
        Assert.That(Str(requested, "connection_id"), Is.EqualTo(inviteeId));

        var inviterId = await PollAsync(async () =>
        {
            try { return Str(await inviter.DidExchangeByInvitationAsync(invitationId), "connection_id"); }
            catch (BackchannelException e) when (e.Status == 404) { return null; }
        }, $"the inviter to receive the request for invitation {invitationId}");
        await WaitForAsync(inviter, inviterId, "request-received", DidExchangeState);
        await inviter.DidExchangeSendResponseAsync(inviterId);

        await WaitForAsync(invitee, inviteeId, "completed", DidExchangeState);
        await WaitForAsync(inviter, inviterId, "completed", DidExchangeState);
        return (inviterId, inviteeId, invitationId);
    }

    private static Task<JsonObject> ConnectionState(BackchannelClient bc, string id) => bc.ConnectionAsync(id);
    private static Task<JsonObject> DidExchangeState(BackchannelClient bc, string id) => bc.DidExchangeAsync(id);

    /// <summary>Polls the connection until its AATH state is <paramref name="state"/>; fails with the last state seen.</summary>
    private static async Task<JsonObject> WaitForAsync(BackchannelClient bc, string id, string state, Func<BackchannelClient, string, Task<JsonObject>> read)
    {
        JsonObject? last = null;
        await PollAsync(async () =>
        {
            last = await read(bc, id);
            return Str(last, "state") == state ? state : null;
        }, $"connection {id} at {bc.BaseUrl} to reach '{state}'", () => $"last state '{(last is null ? "?" : Str(last, "state"))}'");
        return last!;
    }

    private static async Task<string> PollAsync(Func<Task<string?>> probe, string what, Func<string>? detail = null)
    {
        var sw = Stopwatch.StartNew();
        var delay = 5;
        while (true)
        {
            if (await probe() is { } v) return v;
            if (sw.Elapsed > Timeout) Assert.Fail($"timed out after {Timeout.TotalSeconds:0} s waiting for {what}{(detail is null ? "" : ": " + detail())}");
            await Task.Delay(delay);
            delay = Math.Min(delay * 2, 100);
        }
    }

    private static string Str(JsonObject o, string name) =>
        o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new AssertionException($"no string '{name}' in {o.ToJsonString()}");

    private static AgentDefinition WithArgs(AgentDefinition d, params string[] extra) => new()
    {
        Name = d.Name,
        Description = d.Description,
        Directory = d.Directory,
        RepoRoot = d.RepoRoot,
        Command = d.Command,
        Args = [.. d.Args, .. extra],
        Env = d.Env,
        Cwd = d.Cwd,
        Backchannel = d.Backchannel,
        Health = d.Health,
        StartupTimeout = d.StartupTimeout,
        ShutdownGrace = d.ShutdownGrace,
        Install = d.Install,
        Docker = d.Docker,
        Deterministic = d.Deterministic,
    };
}
