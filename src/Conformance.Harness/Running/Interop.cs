// Interop runs: two agents under test, each driven only through its AATH backchannel, run the connection protocols
// with each other — every ordered pair (inviter A, invitee B) of the given agents, A = B included (then two
// instances of the agent run). What passes between them on the inviter's DIDComm endpoint is recorded by a
// RecordingRelay: the harness rewrites the invitation's inline serviceEndpoint to the relay before handing it to B.
//
// The flows are the AATH scenarios (shared/specs/aath/*.feature) in manual-accept style, as the suites drive an agent
// (suites/Conformance.Suites/Support/{Connections160,DidExchanges,OutOfBands}.cs) — but with an agent on both sides:
//   connections/1.0   T001-RFC0160  create-invitation → receive-invitation → accept-invitation → (request) accept-request
//                                   → (response) send-ping → both active
//   didexchange/1.1   T001-RFC0023  send-invitation-message → receive-invitation → send-request → (request-received)
//                                   send-response → both completed
//   oob-reuse         T012-RFC0023  "Acme and Bob have an existing connection with a public DID"; Bob sends an explicit
//                                   invitation with a public DID; Acme receives it wanting to reuse the connection.
//                                   RFC 0434 §Reuse Messages: "If the receiver desires to reuse the existing connection
//                                   and no requests~attach item is included in the message, the receiver SHOULD
//                                   attempt to do so with the reuse and reuse-accepted messages."
//                                   When the pair cannot connect through a public DID (none, or the invitee cannot
//                                   resolve it), the existing connection is an inline one and Bob's second invitation
//                                   names the same services as the first: the backchannel extension (not AATH)
//                                   "same_services_as": "<@id of the first invitation>" (BackchannelApi.cs; Credo:
//                                   lib/backchannel.js). RFC 0434: a connection "created from an out-of-band invitation
//                                   from the same services DID of a new invitation" may be reused, and an inline block
//                                   stands for the did:peer:2 of its key and endpoint. A backchannel without the
//                                   extension gives a new key: the case is UNSUPPORTED and says so.
// Each pairing's protocol becomes one CaseResult (id INTEROP-<A>-<B>-<protocol>, rfc "INTEROP") and one Pairing for
// the report's interop matrix.
//
// What the relay can see: only what is sent to the invitation's endpoint (the connection / didexchange request, and
// a request a receiver sends instead of reusing). Later messages go to the endpoints in the DID documents the agents
// exchanged, which the harness cannot rewrite (they are signed or encrypted); the backchannel states tell the rest.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Conformance.Harness.Drivers;
using Conformance.Harness.Grading;
using Conformance.Harness.Reports;
using Conformance.Harness.Tap;

namespace Conformance.Harness.Running;

/// <summary>What an interop run is asked to do.</summary>
public sealed class InteropOptions
{
    /// <summary>Agent names (definitions under agents/, or "reference"); every ordered pair runs.</summary>
    public IReadOnlyList<string> Agents { get; set; } = ["reference", "credo"];
    /// <summary>Runtime for every agent: null (reference in-process, others as their definition says), "process" or "docker".</summary>
    public string? Runtime { get; set; }
    /// <summary>Which protocols to run (default all of <see cref="InteropProtocols.All"/>).</summary>
    public IReadOnlyList<string> Protocols { get; set; } = InteropProtocols.All;
    /// <summary>Only these ordered pairs (inviter, invitee); null = every ordered pair of <see cref="Agents"/>.</summary>
    public IReadOnlyList<(string Inviter, string Invitee)>? Pairs { get; set; }
    public string RepoRoot { get; set; } = RunOptions.FindRepoRoot();
    /// <summary>Report folder; agents' logs go to its logs/ folder. Default reports/&lt;run-id&gt;.</summary>
    public string? ReportsDir { get; set; }
    /// <summary>How long to wait for an agent to reach a state.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>The ordered pairs to run: <see cref="Pairs"/>, or every (A, B) of <see cref="Agents"/> with A = B included.</summary>
    public IReadOnlyList<(string Inviter, string Invitee)> OrderedPairs() =>
        Pairs ?? [.. from a in Agents from b in Agents select (a, b)];
}

/// <summary>The protocols an interop pairing runs, as named in <see cref="Pairing.Protocol"/>.</summary>
public static class InteropProtocols
{
    public const string Connections = "connections/1.0";
    public const string DidExchange = "didexchange/1.1";
    public const string Reuse = "oob-reuse";
    public static readonly IReadOnlyList<string> All = [Connections, DidExchange, Reuse];
    /// <summary>
    /// The backchannel extension (not AATH) of send-invitation-message asking for an invitation with the same services
    /// as an earlier one of the same agent (its @id), so that reuse can be exercised without a public DID.
    /// </summary>
    public const string SameServicesAs = "same_services_as";

    /// <summary>The case id of a pairing: <c>INTEROP-&lt;A&gt;-&lt;B&gt;-&lt;protocol&gt;</c> (protocol with '/' as '-').</summary>
    public static string CaseId(string inviter, string invitee, string protocol) =>
        $"INTEROP-{inviter}-{invitee}-{protocol.Replace('/', '-')}";
}

/// <summary>The outcome of an interop run: one case per pairing and protocol, and the pairings for the matrix.</summary>
public sealed class InteropResult
{
    public List<CaseResult> Cases { get; } = [];
    public List<Pairing> Pairings { get; } = [];
    /// <summary>Agent → how it ran ("in-process", "process", "docker") and its version.</summary>
    public Dictionary<string, string> AgentInfo { get; } = [];
    public DateTimeOffset Started { get; init; } = DateTimeOffset.UtcNow;
    public DateTimeOffset Finished { get; set; }

    /// <summary>The report of this run (cases and pairings), ready for <see cref="ReportWriter"/>.</summary>
    public RunReport ToReport(string runId, InteropOptions o)
    {
        var settings = new Dictionary<string, string>
        {
            ["mode"] = "interop (every ordered pair: inviter × invitee)",
            ["agents"] = string.Join(",", o.Agents),
            ["protocols"] = string.Join(",", o.Protocols),
            ["timeout_s"] = o.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            ["wire"] = "recorded by a relay on the inviter's invitation endpoint",
        };
        foreach (var (agent, info) in AgentInfo) settings["agent " + agent] = info;
        return new RunReport
        {
            RunId = runId, Started = Started, Finished = Finished == default ? DateTimeOffset.UtcNow : Finished,
            Agents = [.. o.Agents], Cases = [.. Cases], Pairings = [.. Pairings], Settings = settings,
            Runtime = o.Runtime ?? "reference in-process, others as defined",
        };
    }

    /// <summary>0 when every pairing is PASS, WARN or UNSUPPORTED; 1 when one is FAIL or ERROR.</summary>
    public int ExitCode => Cases.Any(c => c.Grade is Grade.FAIL or Grade.ERROR) ? 1 : 0;
}

/// <summary>
/// Runs the interop pairings (see the file header). Agents are started on first use and kept for the whole run: one
/// instance per agent, and a second one where an agent meets itself (the invitee of an A↔A pair).
/// </summary>
public sealed class InteropRun(InteropOptions options) : IAsyncDisposable
{
    private readonly Dictionary<(string Name, int Slot), Task<Instance>> _instances = [];

    public InteropOptions Options { get; } = options;
    public string RunId { get; } = DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Environment.ProcessId + "-interop";

    /// <summary>Runs every ordered pair and protocol; <paramref name="progress"/> gets each case as it is graded.</summary>
    public async Task<InteropResult> RunAsync(Action<CaseResult>? progress = null, CancellationToken ct = default)
    {
        var result = new InteropResult { Started = DateTimeOffset.UtcNow };
        foreach (var (a, b) in Options.OrderedPairs())
        {
            ct.ThrowIfCancellationRequested();
            var cases = await RunPairAsync(a, b, ct);
            foreach (var (protocol, c) in Options.Protocols.Zip(cases))
            {
                result.Cases.Add(c);
                result.Pairings.Add(new Pairing(a, b, protocol, c.Grade, c.Id));
                progress?.Invoke(c);
            }
        }
        foreach (var (key, task) in _instances.Where(i => i.Key.Slot == 1))
        {
            if (!task.IsCompletedSuccessfully) { result.AgentInfo[key.Name] = "did not start"; continue; }
            var inst = task.Result;
            string version;
            try { version = await inst.Driver.Backchannel.VersionAsync(ct); }
            catch (Exception e) when (e is HttpRequestException or BackchannelException or TaskCanceledException) { version = "unknown"; }
            result.AgentInfo[key.Name] = $"{inst.Driver.Runtime}, {version}";
        }
        result.Finished = DateTimeOffset.UtcNow;
        return result;
    }

    /// <summary>The cases of one ordered pair: each protocol of <see cref="InteropOptions.Protocols"/>, in order.</summary>
    public async Task<List<CaseResult>> RunPairAsync(string inviter, string invitee, CancellationToken ct = default)
    {
        var results = new List<CaseResult>();
        Instance? a = null, b = null;
        string? startFailure = null;
        try
        {
            a = await InstanceAsync(inviter, 1, ct);
            b = await InstanceAsync(invitee, inviter == invitee ? 2 : 1, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            startFailure = $"agent could not be started: {e.GetType().Name}: {e.Message}";
        }

        await using var relays = new PairRelays(inviter, invitee);
        Established? didExchange = null;
        foreach (var protocol in Options.Protocols)
        {
            var c = new PairingCase(inviter, invitee, protocol, a, b, relays, Options.Timeout, ct);
            if (startFailure != null)
            {
                results.Add(c.Errored(startFailure));
                continue;
            }
            var r = await c.RunAsync(async () =>
            {
                switch (protocol)
                {
                    case InteropProtocols.Connections: await ConnectionsAsync(c); break;
                    case InteropProtocols.DidExchange: didExchange = await DidExchangeAsync(c, null, "the didexchange"); break;
                    case InteropProtocols.Reuse: await ReuseAsync(c, didExchange); break;
                    default: throw new ArgumentException($"unknown interop protocol '{protocol}' ({string.Join(", ", InteropProtocols.All)})");
                }
            });
            results.Add(r);
        }
        return results;
    }

    // ------------------------------------------------------------------ agents

    private sealed record Instance(string Name, int Slot, IAgentDriver Driver)
    {
        /// <summary>"credo", or "credo#2" for the second instance.</summary>
        public string Label => Slot == 1 ? Name : $"{Name}#{Slot}";
        public BackchannelClient Backchannel => Driver.Backchannel;
    }

    private Task<Instance> InstanceAsync(string name, int slot, CancellationToken ct)
    {
        lock (_instances)
        {
            if (!_instances.TryGetValue((name, slot), out var t))
                _instances[(name, slot)] = t = StartInstanceAsync(name, slot, ct);
            return t;
        }
    }

    private async Task<Instance> StartInstanceAsync(string name, int slot, CancellationToken ct)
    {
        var run = new RunOptions
        {
            Agent = name, Runtime = Options.Runtime, RepoRoot = Options.RepoRoot,
            ReportsDir = Options.ReportsDir ?? Path.Combine(Options.RepoRoot, "reports", RunId),
        };
        // Two instances of the embedded reference agent must not share a seed (they would have the same keys).
        run.Settings.Deterministic = false;
        var driver = DriverFactory.Create(run);
        try
        {
            await driver.StartAsync(ct);
            // The embedded reference agent is created here, once: the whole run is one "case" for it.
            await driver.BeginCaseAsync($"interop-{name}-{slot}", ct);
        }
        catch
        {
            await driver.DisposeAsync();
            throw;
        }
        return new Instance(name, slot, driver);
    }

    public async ValueTask DisposeAsync()
    {
        List<Task<Instance>> all;
        lock (_instances) all = [.. _instances.Values];
        foreach (var t in all)
        {
            if (!t.IsCompletedSuccessfully) continue;
            try { await t.Result.Driver.DisposeAsync(); }
            catch (Exception e) when (e is InvalidOperationException or IOException) { }
        }
    }

    // ------------------------------------------------------------------ connections/1.0 (T001-RFC0160)

    private static async Task ConnectionsAsync(PairingCase c)
    {
        // "Acme" (A) generates a connection invitation
        var created = await c.Call(c.A, "connection/create-invitation", bc => bc.ConnectionCreateInvitationAsync());
        var invitation = c.Require(c.A, "generates a connection invitation (RFC 0160 §0 Invitation to Connect).", created["invitation"] as JsonObject, "an invitation object", created);
        var aId = c.Require(c.A, "names the connection of its invitation (connection_id).", Str(created, "connection_id"), "a connection_id", created);
        invitation = await c.RouteThroughRelayAsync(invitation);

        // "Bob" (B) receives the connection invitation; "Bob" sends a connection request to "Acme"
        var received = await c.Call(c.B, "connection/receive-invitation", bc => bc.ConnectionReceiveInvitationAsync(Clone(invitation)));
        var bId = c.Require(c.B, "receives the connection invitation.", Str(received, "connection_id"), "a connection_id", received);
        var accepted = await c.Call(c.B, "connection/accept-invitation", bc => bc.ConnectionAcceptInvitationAsync(bId));
        bId = Str(accepted, "connection_id") ?? bId;

        // "Acme" receives the connection request; "Acme" sends a connection response to "Bob"
        var aState = await c.ConnectionStateAsync(c.A, aId, "receives the connection request (RFC 0160 §1).", "request", "response", "active");
        if (aState == "request")
        {
            var r = await c.Call(c.A, "connection/accept-request", bc => bc.ConnectionAcceptRequestAsync(aId));
            aId = Str(r, "connection_id") ?? aId;
        }
        else c.Note($"{c.A.Label} answered the request on its own (state '{aState}' before accept-request)");

        // "Bob" receives the connection response; "Bob" sends trustping to "Acme"
        await c.ConnectionStateAsync(c.B, bId, "receives the connection response (RFC 0160 §2).", "response", "active");
        await c.Call(c.B, "connection/send-ping", bc => bc.ConnectionSendPingAsync(bId, "interop ack"));

        // Then "Acme" and "Bob" have a connection
        await c.ConnectionStateAsync(c.B, bId, "has the connection (state active).", "active");
        await c.ConnectionStateAsync(c.A, aId,
            "has the connection: the invitee's message puts the inviter into the complete state (RFC 0160 §3).", "active");
        c.CheckRelaySawRequest("connections/1.0/request");
    }

    // ------------------------------------------------------------------ didexchange/1.1 (T001-RFC0023, T003-RFC0023)

    /// <summary>An established didexchange between the pair: each side's connection id and the invitation used.</summary>
    private sealed record Established(string AId, string BId, JsonObject Invitation, bool ViaPublicDid);

    private const string DidExchange11 = "https://didcomm.org/didexchange/1.1";

    /// <summary>
    /// AATH T001-RFC0023 (T003 with <paramref name="extra"/> {use_public_did:true}): "Bob" (A, responder) sends an
    /// explicit invitation; "Acme" (B, requester) receives it and sends the request; Bob sends the response; Acme
    /// sends complete; both have a connection.
    /// </summary>
    private static async Task<Established> DidExchangeAsync(PairingCase c, JsonObject? extra, string what)
    {
        var data = extra ?? new JsonObject();
        data["handshake_protocols"] = new JsonArray(DidExchange11);
        var created = await c.Call(c.A, "out-of-band/send-invitation-message", bc => bc.OobSendInvitationMessageAsync(data));
        var invitation = c.Require(c.A, "creates an out-of-band invitation (RFC 0434).", created["invitation"] as JsonObject, "an invitation object", created);
        var knownA = Str(created, "connection_id");
        var invitationId = c.Require(c.A, "gives its invitation an @id (RFC 0434).", Str(invitation, "@id"), "@id", invitation);
        invitation = await c.RouteThroughRelayAsync(invitation);

        var received = await c.Call(c.B, "out-of-band/receive-invitation", bc => bc.OobReceiveInvitationAsync(Clone(invitation), useExistingConnection: false));
        var bId = c.Require(c.B, "receives the invitation.", Str(received, "connection_id"), "a connection_id", received);
        var bState = await c.DidExchangeStateAsync(c.B, bId, "records the invitation (state invitation-received).", "invitation-received", "request-sent", "response-received", "completed");
        if (bState == "invitation-received")
        {
            var sent = await c.Call(c.B, "did-exchange/send-request", bc => bc.DidExchangeSendRequestAsync(bId));
            bId = Str(sent, "connection_id") ?? bId;
        }
        else c.Note($"{c.B.Label} sent the request on its own (state '{bState}' after receive-invitation)");

        // "Bob" receives the request: its connection is the one the request made from the invitation.
        var aId = knownA ?? await c.ConnectionForInvitationAsync(c.A, invitationId);
        var aState = await c.DidExchangeStateAsync(c.A, aId, "receives the request (state request-received, RFC 0023 §1).", "request-received", "response-sent", "completed");
        if (aState == "request-received")
        {
            var sent = await c.Call(c.A, "did-exchange/send-response", bc => bc.DidExchangeSendResponseAsync(aId));
            aId = Str(sent, "connection_id") ?? aId;
        }
        else c.Note($"{c.A.Label} answered the request on its own (state '{aState}' before send-response)");

        // "Acme" receives the response; "Acme" sends complete; Then "Acme" and "Bob" have a connection
        await c.DidExchangeStateAsync(c.B, bId, $"completes {what}: the requester sends complete after the response (RFC 0023 §3).", "completed");
        await c.DidExchangeStateAsync(c.A, aId, $"completes {what}: receipt of complete puts the responder into the completed state (RFC 0023 §3).", "completed");
        c.CheckRelaySawRequest("didexchange/1.1/request");
        return new Established(aId, bId, invitation, extra?["use_public_did"]?.GetValue<bool>() == true);
    }

    // ------------------------------------------------------------------ out-of-band reuse (T012-RFC0023, RFC 0434 §Reuse Messages)

    private static async Task ReuseAsync(PairingCase c, Established? fromDidExchange)
    {
        // "Acme and Bob have an existing connection with a public DID": if the inviter has one, connect through it
        // (T003-RFC0023); an invitee that cannot use that invitation falls back to the inline connection.
        var publicDid = await c.PublicDidAsync(c.A);
        Established? existing = null;
        string? whyNoPublicDid = publicDid == null ? $"{c.A.Label} has no public DID (GET /agent/command/did)" : null;
        if (publicDid != null)
        {
            try
            {
                existing = await c.Setup(() => DidExchangeAsync(c, new JsonObject { ["use_public_did"] = true }, "the didexchange through the public DID"));
                c.Note($"existing connection made through {c.A.Label}'s public DID {publicDid} (T003-RFC0023)");
            }
            catch (PairingSetupException e) when (e.RefusedBy == c.B || e.Unsupported)
            {
                // The invitee cannot use the inviter's public-DID invitation (its backchannel refused it): reuse can
                // still be tried on the inline connection. A handshake that started and then broke is a FAIL instead.
                whyNoPublicDid = e.Message;
                c.Note($"no connection through the public DID {publicDid}: {e.Message}");
            }
        }
        if (existing == null)
        {
            existing = fromDidExchange ?? await DidExchangeAsync(c, null, "the didexchange (the connection to reuse)");
            if (fromDidExchange != null) c.Note("existing connection: the one the didexchange pairing made (inline invitation)");
        }

        var aBefore = await c.ConnectionCountAsync(c.A);
        var bBefore = await c.ConnectionCountAsync(c.B);
        var relayMark = c.RelayMark();

        // "Bob sends an explicit invitation wih a public DID" (or, without one, an inline invitation naming the same
        // services as the one the existing connection was made from: the same_services_as extension, not AATH).
        JsonObject data = new() { ["handshake_protocols"] = new JsonArray(DidExchange11) };
        var firstId = Str(existing.Invitation, "@id");
        if (existing.ViaPublicDid) data["use_public_did"] = true;
        else if (firstId != null) data[SameServicesAs] = firstId;
        var askedExtension = data.ContainsKey(SameServicesAs);
        JsonObject? created = null;
        string? extensionRefused = null;
        if (data.ContainsKey(SameServicesAs))
        {
            try
            {
                created = await c.Setup(() => c.Call(c.A, $"out-of-band/send-invitation-message ({SameServicesAs}: {firstId})",
                    bc => bc.OobSendInvitationMessageAsync(data)));
            }
            catch (PairingSetupException e)
            {
                // An agent's backchannel need not know the extension: fall back to a plain invitation and say so.
                extensionRefused = e.Message;
                c.Note($"{c.A.Label} refused the {SameServicesAs} extension: {e.Message}; sending a plain invitation");
                data.Remove(SameServicesAs);
            }
        }
        try { created ??= await c.Call(c.A, "out-of-band/send-invitation-message", bc => bc.OobSendInvitationMessageAsync(data)); }
        catch (UnsupportedException e) when (existing.ViaPublicDid)
        {
            throw new UnsupportedException($"{c.A.Label} cannot send a second invitation with its public DID: {e.Message}");
        }
        var inv2 = c.Require(c.A, "creates a second out-of-band invitation.", created["invitation"] as JsonObject, "an invitation object", created);
        var inv2Id = c.Require(c.A, "gives its invitation an @id.", Str(inv2, "@id"), "@id", inv2);
        inv2 = await c.RouteThroughRelayAsync(inv2);

        // "Acme receives the invitation while wanting to reuse an existing connection"
        var received = await c.Call(c.B, "out-of-band/receive-invitation (use_existing_connection: true)",
            bc => bc.OobReceiveInvitationAsync(Clone(inv2), useExistingConnection: true));
        var bId = Str(received, "connection_id");
        var reused = received["reused"] is JsonValue rv && rv.TryGetValue<bool>(out var flag) && flag || bId == existing.BId;

        // Whether the receiver could have told that the second invitation comes from the inviter it is connected to.
        var sameDid = existing.ViaPublicDid && DidServices(inv2).Intersect(DidServices(existing.Invitation)).Any();
        var keys1 = InlineKeys(existing.Invitation);
        var sameKey = InlineKeys(inv2).Intersect(keys1).Any();
        var recognisable = sameDid || sameKey;

        if (sameKey && !sameDid) c.Note($"the second invitation names the same inline service key as the first ({string.Join(", ", keys1)}): {SameServicesAs} extension");
        if (!reused)
        {
            var how = $"{c.B.Label} answered receive-invitation with {Compact(received)}";
            if (!recognisable)
                throw new UnsupportedException(
                    $"reuse cannot be exercised between these agents: {whyNoPublicDid ?? "the second invitation names no public DID"}, and {c.A.Label}'s second " +
                    $"inline invitation has a new recipient key ({string.Join(", ", InlineKeys(inv2))} vs {string.Join(", ", keys1)}), so no invitee can tell it comes " +
                    $"from the inviter it is connected to (RFC 0434: reuse by \"the same services DID\"); " +
                    (extensionRefused != null ? $"its backchannel refused the {SameServicesAs} extension ({extensionRefused})"
                        : askedExtension ? $"its backchannel ignored the {SameServicesAs} extension (not AATH)" : "") +
                    $". {how}.");
            c.Should($"{c.B.Label} reuses the existing connection: \"If the receiver desires to reuse the existing connection and no requests~attach item is included " +
                     "in the message, the receiver SHOULD attempt to do so with the reuse and reuse-accepted messages\" (RFC 0434 §Reuse Messages).",
                false, $"reused: true, connection_id {existing.BId} (the invitation names {(sameDid ? "the same public DID" : "the same recipient key")} as the one connected through)", how);
            return;
        }

        c.Must($"{c.B.Label} reports the existing connection as the one reused.", bId == null || bId == existing.BId,
            $"connection_id {existing.BId}", $"connection_id {bId}");
        // Sending or receiving handshake-reuse "does not change the state of the existing connection".
        await c.DidExchangeStateAsync(c.B, existing.BId, "keeps the existing connection completed (RFC 0434: reuse does not change its state).", "completed");
        await c.DidExchangeStateAsync(c.A, existing.AId, "keeps the existing connection completed after handshake-reuse.", "completed");
        // No second handshake: give a stray request time to arrive, then look on both sides and on the relay.
        await Task.Delay(TimeSpan.FromMilliseconds(750), c.Cancellation);
        var aNew = await c.ConnectionForInvitationOrNullAsync(c.A, inv2Id);
        c.Should($"{c.A.Label} gets handshake-reuse, not a new request: no connection is made from the second invitation.",
            aNew == null || aNew == existing.AId, "no connection for invitation " + inv2Id, aNew == null ? "none (404)" : $"connection {aNew}");
        var requests = c.RelayRequestsSince(relayMark);
        c.Should("No handshake request for the second invitation reaches the inviter's invitation endpoint (relay).", requests == 0, "0 requests", $"{requests} request(s)");
        var aAfter = await c.ConnectionCountAsync(c.A);
        var bAfter = await c.ConnectionCountAsync(c.B);
        c.Should($"{c.B.Label} creates no redundant connection.", bAfter is null || bBefore is null || bAfter == bBefore, $"{bBefore} connections", $"{bAfter} connections");
        c.Should($"{c.A.Label} creates no redundant connection.", aAfter is null || aBefore is null || aAfter == aBefore, $"{aBefore} connections", $"{aAfter} connections");
        if (received["state"] is not null) c.Note($"{c.B.Label} receive-invitation answer: {Compact(received)}");
    }

    private const string SameServicesAs = InteropProtocols.SameServicesAs;

    // ------------------------------------------------------------------ invitation helpers

    internal static string? Str(JsonNode? n, string name) =>
        n?[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;

    private static JsonObject Clone(JsonObject o) => (JsonObject)o.DeepClone();

    private static string Compact(JsonNode n)
    {
        var s = n.ToJsonString();
        return s.Length > 400 ? s[..400] + "…" : s;
    }

    private static IEnumerable<JsonNode?> OutOfBandServices(JsonObject inv) => inv["services"] as JsonArray ?? [];

    private static IEnumerable<string> DidServices(JsonObject inv) =>
        OutOfBandServices(inv).OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var s) ? s : null).OfType<string>();

    /// <summary>Base58 verkeys of the inline services (did:key or raw), or of a connections/1.0 invitation.</summary>
    private static HashSet<string> InlineKeys(JsonObject inv)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var blocks = OutOfBandServices(inv).OfType<JsonObject>().Append(inv);
        foreach (var b in blocks)
            foreach (var k in (b["recipientKeys"] as JsonArray ?? []).OfType<JsonValue>())
                if (k.TryGetValue<string>(out var s))
                {
                    try { keys.Add(Conformance.Wire.Envelopes.Rfc0094.ToVerkey(s)); }
                    catch (Conformance.Wire.Envelopes.EnvelopeException) { keys.Add(s); }
                }
        return keys;
    }

    /// <summary>
    /// The http(s)/ws(s) endpoints of an invitation's inline services (RFC 0434 services[] blocks, or the
    /// serviceEndpoint of a connections/1.0 invitation with recipientKeys). A service given as a DID is not inline.
    /// </summary>
    public static IReadOnlyList<Uri> InlineEndpoints(JsonObject invitation)
    {
        ArgumentNullException.ThrowIfNull(invitation);
        var list = new List<Uri>();
        foreach (var block in InlineBlocks(invitation))
            if (EndpointOf(block) is { } u && !list.Contains(u)) list.Add(u);
        return list;
    }

    /// <summary>A copy of <paramref name="invitation"/> whose inline serviceEndpoints are replaced by <paramref name="relayFor"/>'s answer.</summary>
    public static JsonObject RewriteEndpoints(JsonObject invitation, Func<Uri, Uri> relayFor)
    {
        ArgumentNullException.ThrowIfNull(invitation);
        var copy = Clone(invitation);
        foreach (var block in InlineBlocks(copy))
            if (EndpointOf(block) is { } u)
                block["serviceEndpoint"] = relayFor(u).ToString();
        return copy;
    }

    private static IEnumerable<JsonObject> InlineBlocks(JsonObject inv)
    {
        if (inv["services"] is JsonArray services) return services.OfType<JsonObject>();
        return inv.ContainsKey("recipientKeys") ? [inv] : [];
    }

    private static Uri? EndpointOf(JsonObject block) =>
        block["serviceEndpoint"] is JsonValue v && v.TryGetValue<string>(out var s) && Uri.TryCreate(s, UriKind.Absolute, out var u)
        && u.Scheme is "http" or "https" or "ws" or "wss" ? u : null;

    // ------------------------------------------------------------------ relays of one pair

    /// <summary>The relays in front of one inviter's endpoints for one pair, kept for all of the pair's cases (so a second invitation names the same endpoint as the first).</summary>
    private sealed class PairRelays(string inviter, string invitee) : IAsyncDisposable
    {
        private readonly Dictionary<string, RecordingRelay> _byTarget = new(StringComparer.Ordinal);

        public IReadOnlyCollection<RecordingRelay> All => _byTarget.Values;

        public async Task<RecordingRelay> ForAsync(Uri target, CancellationToken ct)
        {
            var key = target.GetLeftPart(UriPartial.Authority) + target.AbsolutePath;
            if (_byTarget.TryGetValue(key, out var r)) return r;
            r = await RecordingRelay.StartAsync(target, new RelayOptions { ClientName = $"invitee {invitee}", TargetName = $"inviter {inviter}" }, ct);
            _byTarget[key] = r;
            return r;
        }

        /// <summary>Per relay, the number of records so far.</summary>
        public Dictionary<RecordingRelay, int> Mark() => _byTarget.Values.ToDictionary(r => r, r => r.Records.Count);

        public async ValueTask DisposeAsync()
        {
            foreach (var r in _byTarget.Values) await r.DisposeAsync();
            _byTarget.Clear();
        }
    }

    // ------------------------------------------------------------------ one pairing case

    /// <summary>A setup step (not the case's own subject) could not be done; the message says why.</summary>
    /// <param name="RefusedBy">The agent whose backchannel refused an operation (HTTP 4xx/5xx), if that was the cause.</param>
    /// <param name="Unsupported">The cause was a 501 (the agent declares it does not do this).</param>
    private sealed class PairingSetupException(string message, Instance? refusedBy = null, bool unsupported = false) : Exception(message)
    {
        public Instance? RefusedBy { get; } = refusedBy;
        public bool Unsupported { get; } = unsupported;
    }

    /// <summary>One pairing and protocol being run: the two agents, the checks, the relay slice, the grade.</summary>
    private sealed class PairingCase(string inviter, string invitee, string protocol, Instance? a, Instance? b, PairRelays relays, TimeSpan timeout, CancellationToken ct)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Dictionary<RecordingRelay, int> _start = relays.Mark();
        private readonly List<Check> _checks = [];
        private readonly List<string> _notes = [];
        private int _setupDepth;
        private bool _relayed;

        public Instance A => a!;
        public Instance B => b!;
        public CancellationToken Cancellation => ct;

        private CaseResult NewResult()
        {
            var (title, aath, section, level, requirement) = Describe(protocol);
            return new CaseResult
            {
                Id = InteropProtocols.CaseId(inviter, invitee, protocol), Rfc = "INTEROP", Title = title, Aath = aath,
                Section = section, Level = level, Requirement = requirement, Agent = inviter, Peer = invitee,
                Description = $"Inviter: {inviter}{(a is { Slot: > 1 } ? $" (instance {a.Slot})" : "")}; invitee: {invitee}" +
                              $"{(b is { Slot: > 1 } ? $" (instance {b.Slot})" : "")}. Both are driven only through their AATH backchannels, in manual-accept " +
                              "style; the wire log is what a recording relay on the inviter's invitation endpoint saw.",
            };
        }

        public CaseResult Errored(string reason)
        {
            var r = NewResult();
            r.Grade = Grade.ERROR;
            r.Reason = reason;
            return r;
        }

        public async Task<CaseResult> RunAsync(Func<Task> body)
        {
            var r = NewResult();
            try
            {
                await body();
                r.Grade = _checks.Any(k => k.Grade == Grade.FAIL) ? Grade.FAIL
                    : _checks.Any(k => k.Grade == Grade.WARN) ? Grade.WARN
                    : _checks.Count == 0 ? Grade.ERROR
                    : Grade.PASS;
                if (_checks.Count == 0) r.Reason = "the pairing checked nothing";
            }
            catch (CaseFailedException e)
            {
                r.Grade = Grade.FAIL;
                if (!_checks.Any(k => k.Grade == Grade.FAIL)) _checks.Add(new Check(e.Message, Level.MUST, false, null, null));
            }
            catch (UnsupportedException u)
            {
                r.Grade = Grade.UNSUPPORTED;
                r.Reason = u.Message;
            }
            catch (PairingSetupException s)
            {
                r.Grade = Grade.FAIL;
                _checks.Add(new Check("The setup of the pairing succeeds.", Level.MUST, false, null, s.Message));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
            catch (Exception e)
            {
                r.Grade = Grade.ERROR;
                r.Reason = e.GetType().Name + ": " + e.Message;
            }
            r.DurationMs = _clock.ElapsedMilliseconds;
            r.Checks = _checks;
            r.Wire = WireSince(_start);
            var first = _checks.FirstOrDefault(k => k.Grade == Grade.FAIL) ?? _checks.FirstOrDefault(k => k.Grade == Grade.WARN);
            if (first != null)
            {
                r.Expected = first.Expected;
                r.Observed = first.Observed;
            }
            if (_notes.Count > 0) r.Observed = (r.Observed == null ? "" : r.Observed + "\n") + string.Join("\n", _notes);
            if (r.Grade != Grade.PASS)
                foreach (var inst in new[] { a, b }.OfType<Instance>().Distinct())
                    if (inst.Driver is IAgentLogSource { LogPath: { } log } && !r.Attachments.Contains(log)) r.Attachments.Add(log);
            return r;
        }

        // -------------------------------------------------------------- checks

        public void Note(string line) => _notes.Add(line);

        public void Must(string requirement, bool ok, string? expected, string? observed)
        {
            _checks.Add(new Check(requirement, Level.MUST, ok, expected, observed));
            if (!ok) throw _setupDepth > 0 ? new PairingSetupException($"{requirement} Expected {expected}; observed {observed}.") : new CaseFailedException(requirement);
        }

        public void Should(string requirement, bool ok, string? expected, string? observed) =>
            _checks.Add(new Check(requirement, Level.SHOULD, ok, expected, observed));

        public T Require<T>(Instance who, string requirement, T? value, string expected, JsonNode answer) where T : class
        {
            Must($"{who.Label} {requirement}", value != null, expected, value == null ? "answer: " + Compact(answer) : null);
            return value!;
        }

        /// <summary>
        /// Runs a setup step (its checks are kept): a step that cannot go on — a backchannel refusal, a state never
        /// reached — becomes <see cref="PairingSetupException"/> for the caller to decide; 501 stays UNSUPPORTED.
        /// </summary>
        public async Task<T> Setup<T>(Func<Task<T>> step)
        {
            var mark = _checks.Count;
            _setupDepth++;
            try { return await step(); }
            catch (CaseFailedException e) { throw new PairingSetupException(e.Message); }
            catch (UnsupportedException e) { throw new PairingSetupException(e.Message, unsupported: true); }
            finally
            {
                _setupDepth--;
                // A setup that failed is recorded by its caller as a note; its failed check would grade the case.
                if (_checks.Skip(mark).Any(k => !k.Ok))
                    for (var i = _checks.Count - 1; i >= mark; i--)
                        if (!_checks[i].Ok) _checks[i] = _checks[i] with { Level = Level.MAY, Requirement = "(setup) " + _checks[i].Requirement };
            }
        }

        /// <summary>
        /// A backchannel call of <paramref name="who"/>. 501: UNSUPPORTED (the agent declares it does not do this);
        /// another HTTP error: a failed MUST ("performs the operation"); no answer at all: ERROR (infrastructure).
        /// </summary>
        public async Task<JsonObject> Call(Instance who, string what, Func<BackchannelClient, Task<JsonObject>> call)
        {
            try { return await call(who.Backchannel); }
            catch (BackchannelUnsupportedException u)
            {
                throw new UnsupportedException($"{who.Label}'s backchannel answered 501 Not Implemented for {u.Path}: {OneLine(u.Detail)}");
            }
            catch (BackchannelException e) when (e.Status != 0)
            {
                var requirement = $"{who.Label} performs {what} through its backchannel.";
                var observed = $"HTTP {e.Status}: {OneLine(e.Detail)}";
                if (_setupDepth > 0)
                {
                    _checks.Add(new Check(requirement, Level.MUST, false, "a successful backchannel answer", observed));
                    throw new PairingSetupException($"{who.Label}'s backchannel refused {what}: {observed}", refusedBy: who);
                }
                Must(requirement, false, "a successful backchannel answer", observed);
                throw; // not reached: Must throws
            }
        }

        private static string OneLine(string s)
        {
            s = s.ReplaceLineEndings(" ");
            return s.Length > 500 ? s[..500] + "…" : s;
        }

        public Task<string?> ConnectionStateAsync(Instance who, string id, string requirement, params string[] states) =>
            StateAsync(who, id, requirement, "connection", (bc, t) => bc.ConnectionAsync(id, t), states);

        public Task<string?> DidExchangeStateAsync(Instance who, string id, string requirement, params string[] states) =>
            StateAsync(who, id, requirement, "did-exchange", (bc, t) => bc.DidExchangeAsync(id, t), states);

        /// <summary>Polls the agent's state until it is one of <paramref name="states"/>; a MUST (FAIL on timeout, with the last state seen).</summary>
        private async Task<string?> StateAsync(Instance who, string id, string requirement, string topic,
            Func<BackchannelClient, CancellationToken, Task<JsonObject>> get, string[] states)
        {
            string? last = null;
            string? error = null;
            var until = _clock.Elapsed + timeout;
            while (true)
            {
                try
                {
                    last = Str(await get(who.Backchannel, ct), "state");
                    error = null;
                    if (last != null && states.Contains(last)) break;
                    if (last is "abandoned" or "error") break;
                }
                catch (BackchannelException e) when (e.Status is 400 or 404) { error = $"HTTP {e.Status}: {OneLine(e.Detail)}"; }
                if (_clock.Elapsed > until) break;
                await Task.Delay(100, ct);
            }
            var ok = last != null && states.Contains(last);
            Must($"{who.Label} {requirement}", ok, $"{topic}/{id} state {string.Join(" or ", states)}",
                ok ? $"state '{last}'" : $"state '{last ?? "none"}'{(error != null ? "; " + error : "")} after {timeout.TotalSeconds:0} s");
            return last;
        }

        /// <summary>The responder's connection made from an invitation (GET /agent/response/did-exchange/{invitation @id}); a MUST.</summary>
        public async Task<string> ConnectionForInvitationAsync(Instance who, string invitationId)
        {
            var until = _clock.Elapsed + timeout;
            string? id;
            while ((id = await ConnectionForInvitationOrNullAsync(who, invitationId)) == null && _clock.Elapsed < until)
                await Task.Delay(100, ct);
            Must($"{who.Label} has a connection for the request (GET /agent/response/did-exchange/{{invitation @id}}).", id != null,
                "a connection_id for invitation " + invitationId,
                id != null ? "connection " + id : "404 after " + timeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture) + " s");
            return id!;
        }

        public async Task<string?> ConnectionForInvitationOrNullAsync(Instance who, string invitationId)
        {
            try { return Str(await who.Backchannel.DidExchangeByInvitationAsync(invitationId, ct), "connection_id"); }
            catch (BackchannelException e) when (e.Status is 404 or 400) { return null; }
        }

        /// <summary>The agent's public DID (GET /agent/command/did), or null when it has none (404/501/400).</summary>
        public async Task<string?> PublicDidAsync(Instance who)
        {
            try { return Str(await who.Backchannel.PublicDidAsync(ct), "did"); }
            catch (BackchannelException e) when (e.Status is 400 or 404 or 501) { return null; }
        }

        public async Task<int?> ConnectionCountAsync(Instance who)
        {
            try { return (await who.Backchannel.ConnectionsAsync(ct)).Count; }
            catch (BackchannelException) { return null; }
        }

        // -------------------------------------------------------------- relay

        /// <summary>The invitation with each inline serviceEndpoint replaced by a relay to it (DID services are left alone).</summary>
        public async Task<JsonObject> RouteThroughRelayAsync(JsonObject invitation)
        {
            var map = new Dictionary<Uri, Uri>();
            foreach (var target in InlineEndpoints(invitation))
            {
                var relay = await relays.ForAsync(target, ct);
                map[target] = target.Scheme is "ws" or "wss" ? relay.WsEndpoint : relay.Endpoint;
            }
            if (map.Count == 0)
            {
                Note("the invitation has no inline service (a DID): it is not relayed");
                return invitation;
            }
            _relayed = true;
            Note("invitation endpoint relayed: " + string.Join(", ", map.Select(kv => $"{kv.Key} via {kv.Value}")));
            return RewriteEndpoints(invitation, u => map[u]);
        }

        public Dictionary<RecordingRelay, int> RelayMark() => relays.Mark();

        /// <summary>Bodies the invitee sent through the relays since <paramref name="mark"/> (each one a handshake request or a stray message).</summary>
        public int RelayRequestsSince(Dictionary<RecordingRelay, int> mark) =>
            relays.All.Sum(r => r.Records.Skip(mark.GetValueOrDefault(r)).Count(x => !x.FromTarget && x.Body.Length > 0));

        /// <summary>A MUST: the invitee's first message reached the inviter's invitation endpoint (through the relay) and was accepted.</summary>
        public void CheckRelaySawRequest(string what)
        {
            var sent = relays.All.SelectMany(r => r.Records.Skip(_start.GetValueOrDefault(r))).Where(x => !x.FromTarget && x.Body.Length > 0).ToList();
            if (!_relayed) return;
            var accepted = sent.FirstOrDefault(x => x.Status is >= 200 and < 300 || x.Transport == "ws");
            Must($"{B.Label}'s {what} reaches {A.Label}'s invitation endpoint and is accepted (RFC 0025: \"A received message should be responded to with a 202 Accepted status code\").",
                accepted != null, "a message through the relay answered 2xx",
                sent.Count == 0 ? "nothing passed the relay" : string.Join("; ", sent.Select(x => $"{x.Method} {x.Path} → {x.Status?.ToString(CultureInfo.InvariantCulture) ?? x.Note}")));
        }

        private List<WireRecord> WireSince(Dictionary<RecordingRelay, int> start)
        {
            var records = relays.All.SelectMany(r => r.ToWireRecords().Skip(start.GetValueOrDefault(r))).OrderBy(w => w.AtMs).ToList();
            return [.. records.Select((w, i) => w with { Seq = i + 1 })];
        }
    }

    /// <summary>Title, AATH scenario, spec section, level and the requirement text (the AATH scenario, quoted) of a protocol.</summary>
    private static (string Title, string Aath, string Section, Level Level, string Requirement) Describe(string protocol) => protocol switch
    {
        InteropProtocols.Connections => ("Interop: connections/1.0", "T001-RFC0160", "aries-rfcs/0160-connection-protocol/README.md", Level.MUST,
            "AATH T001-RFC0160 \"Establish a connection between two agents\" (Acme = inviter, Bob = invitee): When \"Acme\" generates a connection invitation; " +
            "\"Bob\" receives the connection invitation; \"Bob\" sends a connection request to \"Acme\"; \"Acme\" receives the connection request; " +
            "\"Acme\" sends a connection response to \"Bob\"; \"Bob\" receives the connection response; \"Bob\" sends trustping to \"Acme\"; " +
            "Then \"Acme\" and \"Bob\" have a connection."),
        InteropProtocols.DidExchange => ("Interop: didexchange/1.1 over an out-of-band invitation", "T001-RFC0023", "aries-rfcs/0023-did-exchange/README.md", Level.MUST,
            "AATH T001-RFC0023 \"Establish a connection with DID Exchange between two agents with an explicit invitation\" (Bob = responder = inviter, " +
            "Acme = requester = invitee): When \"Bob\" sends an explicit invitation to \"Acme\"; \"Acme\" receives the invitation; \"Acme\" sends the request to \"Bob\"; " +
            "\"Bob\" receives the request; \"Bob\" sends a response to \"Acme\"; \"Acme\" receives the response; \"Acme\" sends complete to \"Bob\"; " +
            "Then \"Acme\" and \"Bob\" have a connection."),
        InteropProtocols.Reuse => ("Interop: out-of-band connection reuse", "T012-RFC0023 (setup T003-RFC0023)", "aries-rfcs/0434-outofband/README.md#reuse-messages", Level.SHOULD,
            "AATH T012-RFC0023 \"Attempt to Establish a connection with DID Exchange between two agents with an explicit invitation with connection reuse\" " +
            "(Bob = inviter, Acme = invitee): Given \"Acme\" and \"Bob\" have an existing connection with a public DID; When \"Bob\" sends an explicit invitation " +
            "wih a public DID; \"Acme\" receives the invitation while wanting to reuse an existing connection. RFC 0434: \"If the receiver desires to reuse the " +
            "existing connection and no requests~attach item is included in the message, the receiver SHOULD attempt to do so with the reuse and reuse-accepted messages.\""),
        _ => throw new ArgumentException($"unknown interop protocol '{protocol}' ({string.Join(", ", InteropProtocols.All)})"),
    };
}

/// <summary>The interop matrix as text: rows inviter, columns invitee, each cell the grade per protocol.</summary>
public static class InteropMatrix
{
    /// <summary>Short cell labels: connections/1.0 → "conn", didexchange/1.1 → "dx", oob-reuse → "reuse".</summary>
    public static string Short(string protocol) => protocol switch
    {
        InteropProtocols.Connections => "conn",
        InteropProtocols.DidExchange => "dx",
        InteropProtocols.Reuse => "reuse",
        _ => protocol,
    };

    public static string Render(IReadOnlyList<Pairing> pairings)
    {
        var agents = pairings.SelectMany(p => new[] { p.Inviter, p.Invitee }).Distinct().ToList();
        var inviters = agents.Where(a => pairings.Any(p => p.Inviter == a)).ToList();
        var invitees = agents.Where(a => pairings.Any(p => p.Invitee == a)).ToList();
        string Cell(string a, string b)
        {
            var cell = pairings.Where(p => p.Inviter == a && p.Invitee == b).Select(p => $"{Short(p.Protocol)} {p.Grade}").ToList();
            return cell.Count == 0 ? "—" : string.Join("  ", cell);
        }
        const string corner = "inviter \\ invitee";
        var first = Math.Max(corner.Length, inviters.Count == 0 ? 0 : inviters.Max(a => a.Length)) + 2;
        var widths = invitees.Select(b => Math.Max(b.Length, inviters.Count == 0 ? 0 : inviters.Max(a => Cell(a, b).Length)) + 3).ToList();
        var sb = new StringBuilder();
        sb.Append(corner.PadRight(first));
        for (var j = 0; j < invitees.Count; j++) sb.Append(invitees[j].PadRight(widths[j]));
        sb.Append('\n');
        foreach (var a in inviters)
        {
            sb.Append(a.PadRight(first));
            for (var j = 0; j < invitees.Count; j++) sb.Append(Cell(a, invitees[j]).PadRight(widths[j]));
            sb.Append('\n');
        }
        return string.Join("\n", sb.ToString().Split('\n').Select(l => l.TrimEnd()));
    }
}
