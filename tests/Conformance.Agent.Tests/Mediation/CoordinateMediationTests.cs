using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.Tests.Support;
using Conformance.Agent.Transport;
using Conformance.Wire.Dids;
using Conformance.Wire.Envelopes;
using static Conformance.Agent.Tests.Mediation.Flows;

namespace Conformance.Agent.Tests.Mediation;

/// <summary>RFC 0211 coordinate-mediation 1.0 between two reference agents over real HTTP.</summary>
public class CoordinateMediationTests
{
    [Test]
    public async Task A_mediator_grants_at_once_with_its_endpoint_and_a_did_key_routing_key_threaded_to_the_request()
    {
        await using var agents = new TestAgents();
        var mediator = await agents.StartAsync("Mediator", o => o.Mediator = true);
        var bob = await agents.StartAsync("Bob");
        var (mSide, bSide) = PreEstablished.ConnectTo(mediator, bob.Agent);

        var sent = await bob.Agent.Mediation.RequestMediationAsync(bSide.Id);
        Assert.That(sent.Role, Is.EqualTo("recipient"));
        var record = await bob.Agent.Mediation.WaitForMediationAsync(bSide.Id);

        // RFC 0211 §Mediation Grant: endpoint + routing_keys; §Encoding of keys: did:key (RFC 0360).
        var request = Single(agents, "Bob", "out", "mediate-request");
        var grant = Single(agents, "Bob", "in", "mediate-grant");
        Assert.That(Str(grant["@type"]), Is.EqualTo("https://didcomm.org/coordinate-mediation/1.0/mediate-grant"));
        Assert.That(Thid(grant), Is.EqualTo(Str(request["@id"])), "the grant is threaded to the request (RFC 0008)");
        Assert.That(Str(grant["endpoint"]), Is.EqualTo(mediator.Agent.Endpoint));
        var routingKeys = ((JsonArray)grant["routing_keys"]!).Select(Str).ToList();
        Assert.That(routingKeys, Has.Count.EqualTo(1));
        Assert.That(routingKeys[0], Does.StartWith("did:key:z6Mk"));
        Assert.That(mediator.Agent.Wallet.Holds(Rfc0094.ToVerkey(routingKeys[0]!)), "the routing key is a key the mediator holds");

        Assert.That(record.State, Is.EqualTo("granted"));
        Assert.That(record.ThreadId, Is.EqualTo(Str(request["@id"])));
        Assert.That(record.Endpoint, Is.EqualTo(mediator.Agent.Endpoint));
        Assert.That(record.RoutingKeys, Is.EqualTo(routingKeys));
        var mine = mediator.Agent.Store.GetMediation(mSide.Id)!;
        Assert.That((mine.Role, mine.State), Is.EqualTo(("mediator", "granted")));
        Assert.That(mine.RoutingKeys, Is.EqualTo(routingKeys));

        var routing = bob.Agent.Mediation.RoutingFor(bSide.Id)!;
        Assert.That(routing.Endpoint, Is.EqualTo(mediator.Agent.Endpoint));
        Assert.That(routing.RoutingKeys, Is.EqualTo(routingKeys));
        Assert.That(EventCount(agents, "Mediator", AgentEvent.MediationState, record.ThreadId), Is.GreaterThanOrEqualTo(2), "request-received then granted announced");

        // Asking again on a granted connection gets the same route, threaded to the new request.
        var again = await bob.Agent.Mediation.RequestMediationAsync(bSide.Id);
        var regranted = await bob.Agent.Mediation.WaitForMediationAsync(bSide.Id);
        Assert.That(regranted.State, Is.EqualTo("granted"));
        Assert.That(regranted.RoutingKeys, Is.EqualTo(routingKeys));
        Assert.That(Thid(Messages(agents, "Bob", "in", "mediate-grant")[^1]), Is.EqualTo(again.ThreadId));
    }

    [Test]
    public async Task Without_auto_accept_the_request_waits_then_one_is_granted_and_one_denied()
    {
        await using var agents = new TestAgents();
        // Not configured as a mediator: requests wait for an explicit grant or deny (AATH manual style).
        var mediator = await agents.StartAsync("Mediator");
        var bob = await agents.StartAsync("Bob");
        var carol = await agents.StartAsync("Carol");
        var (mBob, bobSide) = PreEstablished.ConnectTo(mediator, bob.Agent);
        var (mCarol, carolSide) = PreEstablished.ConnectTo(mediator, carol.Agent);

        await bob.Agent.Mediation.RequestMediationAsync(bobSide.Id);
        await carol.Agent.Mediation.RequestMediationAsync(carolSide.Id);
        await TestAgents.WaitUntilAsync(() => mediator.Agent.Store.GetMediation(mBob.Id)?.State == "request-received"
                                               && mediator.Agent.Store.GetMediation(mCarol.Id)?.State == "request-received", "both requests received");
        Assert.That(bob.Agent.Store.GetMediation(bobSide.Id)!.State, Is.EqualTo("request-sent"));
        Assert.That(Messages(agents, "Mediator", "out", "mediate-grant"), Is.Empty, "nothing granted automatically");

        var granted = await mediator.Agent.Mediation.GrantAsync(mBob.Id);
        Assert.That(granted.State, Is.EqualTo("granted"));
        Assert.That((await bob.Agent.Mediation.WaitForMediationAsync(bobSide.Id)).State, Is.EqualTo("granted"));

        var denied = await mediator.Agent.Mediation.DenyAsync(mCarol.Id);
        Assert.That(denied.State, Is.EqualTo("denied"));
        var carolRecord = await carol.Agent.Mediation.WaitForMediationAsync(carolSide.Id);
        Assert.That(carolRecord.State, Is.EqualTo("denied"));
        var deny = Single(agents, "Carol", "in", "mediate-deny");
        Assert.That(Thid(deny), Is.EqualTo(carolRecord.ThreadId), "mediate-deny threaded to the request");
        Assert.That(carol.Agent.Mediation.RoutingFor(carolSide.Id), Is.Null, "no route after a deny");

        // A decided request cannot be decided again.
        await Assert.ThrowsAsync<InvalidOperationException>(() => mediator.Agent.Mediation.GrantAsync(mCarol.Id));
        await Assert.ThrowsAsync<InvalidOperationException>(() => mediator.Agent.Mediation.DenyAsync(mBob.Id));
        // Keys cannot be registered without a grant: locally refused, and the mediator answers mediation_not_granted (ACA-Py's code).
        await Assert.ThrowsAsync<InvalidOperationException>(() => carol.Agent.Mediation.RegisterKeyAsync(carolSide.Id, carol.Agent.Wallet.CreateKey().Verkey));
        var pr = await Assert.ThrowsAsync<ProblemReportException>(() => carol.Agent.Mediation.KeylistUpdateAsync(carolSide.Id, [carol.Agent.Wallet.CreateKey().Verkey], []));
        Assert.That(pr!.Code, Is.EqualTo("mediation_not_granted"));
        Assert.That(pr.Family, Is.EqualTo("coordinate-mediation/1.0"));
    }

    [Test]
    public async Task Keylist_update_answers_each_key_and_keylist_query_lists_and_paginates_them()
    {
        await using var agents = new TestAgents();
        var mediator = await agents.StartAsync("Mediator", o => o.Mediator = true);
        var bob = await agents.StartAsync("Bob");
        var carol = await agents.StartAsync("Carol");
        var (mBob, bobSide) = await GrantedAsync(mediator, bob.Agent);
        var (_, carolSide) = await GrantedAsync(mediator, carol.Agent);

        var k1 = bob.Agent.Wallet.CreateKey().Verkey;
        var k2 = bob.Agent.Wallet.CreateKey().Verkey;
        var k3 = bob.Agent.Wallet.CreateKey().Verkey;
        // k2 given as did:key, a garbage key, and removing a key never added.
        var response = await bob.Agent.Mediation.KeylistUpdateAsync(bobSide.Id, [k1, Rfc0094.ToDidKey(k2), "not-a-key"], [k3]);
        var updated = ((JsonArray)response["updated"]!).Cast<JsonObject>().ToList();
        Assert.That(updated.Select(u => (Str(u["recipient_key"]), Str(u["action"]), Str(u["result"]))), Is.EqualTo(new[]
        {
            (Rfc0094.ToDidKey(k1), "add", "success"),
            (Rfc0094.ToDidKey(k2), "add", "success"),
            ("not-a-key", "add", "client_error"),
            (Rfc0094.ToDidKey(k3), "remove", "no_change"),
        }));
        var update = Single(agents, "Bob", "out", "keylist-update");
        Assert.That(Thid(response), Is.EqualTo(Str(update["@id"])), "keylist-update-response threaded to the update");
        Assert.That(mediator.Agent.Store.GetMediation(mBob.Id)!.RecipientKeys, Is.EqualTo(new[] { k1, k2 }), "mediator registered k1, k2 (base58)");
        Assert.That(bob.Agent.Store.GetMediation(bobSide.Id)!.RecipientKeys, Is.EqualTo(new[] { k1, k2 }), "recipient's copy follows the response");

        // Adding a registered key changes nothing; another recipient cannot take Bob's key, nor the mediator's own routing key.
        var again = await bob.Agent.Mediation.KeylistUpdateAsync(bobSide.Id, [k1], []);
        Assert.That(Str(((JsonArray)again["updated"]!)[0]!["result"]), Is.EqualTo("no_change"));
        var theirs = await carol.Agent.Mediation.KeylistUpdateAsync(carolSide.Id, [k1, carol.Agent.Mediation.RoutingFor(carolSide.Id)!.RoutingKeys[0]], []);
        Assert.That(((JsonArray)theirs["updated"]!).Select(u => Str(u!["result"])), Is.EqualTo(new[] { "client_error", "client_error" }));

        var keylist = await bob.Agent.Mediation.KeylistQueryAsync(bobSide.Id);
        Assert.That(((JsonArray)keylist["keys"]!).Select(k => Str(k!["recipient_key"])), Is.EqualTo(new[] { Rfc0094.ToDidKey(k1), Rfc0094.ToDidKey(k2) }));
        Assert.That(keylist["pagination"]!.ToJsonString(), Is.EqualTo("""{"count":2,"offset":0,"remaining":0}"""));
        Assert.That(Thid(keylist), Is.EqualTo(Str(Single(agents, "Bob", "out", "keylist-query")["@id"])));

        var removed = await bob.Agent.Mediation.KeylistUpdateAsync(bobSide.Id, [], [k2]);
        Assert.That(Str(((JsonArray)removed["updated"]!)[0]!["result"]), Is.EqualTo("success"));
        var more = Enumerable.Range(0, 4).Select(_ => bob.Agent.Wallet.CreateKey().Verkey).ToList();
        await bob.Agent.Mediation.KeylistUpdateAsync(bobSide.Id, more, []);
        // Keys now [k1, m0, m1, m2, m3]: the page at offset 1 of size 2 is m0, m1 with 2 remaining after it.
        var page = await bob.Agent.Mediation.KeylistQueryAsync(bobSide.Id, limit: 2, offset: 1);
        Assert.That(((JsonArray)page["keys"]!).Select(k => Str(k!["recipient_key"])), Is.EqualTo(more.Take(2).Select(Rfc0094.ToDidKey)));
        Assert.That(page["pagination"]!.ToJsonString(), Is.EqualTo("""{"count":2,"offset":1,"remaining":2}"""));
        Assert.That((await bob.Agent.Mediation.KeylistQueryAsync(bobSide.Id, limit: 10, offset: 9))["keys"]!.AsArray(), Is.Empty);

        var bad = await Assert.ThrowsAsync<ProblemReportException>(() => bob.Agent.Mediation.KeylistQueryAsync(bobSide.Id, limit: -1, offset: 0));
        Assert.That(bad!.Code, Is.EqualTo("e.p.msg"));
    }

    [Test]
    public async Task Routed_dids_of_every_method_point_at_the_mediator_and_their_keys_are_registered()
    {
        await using var agents = new TestAgents();
        var mediator = await agents.StartAsync("Mediator", o => o.Mediator = true);
        var bob = await agents.StartAsync("Bob");
        var (mBob, bobSide) = await GrantedAsync(mediator, bob.Agent);
        var routingVerkey = Rfc0094.ToVerkey(bob.Agent.Mediation.RoutingFor(bobSide.Id)!.RoutingKeys[0]);

        foreach (var method in new[] { "peer:1", "peer:2", "peer:4", "unqualified" })
        {
            var did = await bob.Agent.Mediation.CreateRoutedDidAsync(bobSide.Id, method);
            // What the other side of a connection reads: the service of the DID document.
            var service = DidDocument.FromJson(did.Document).DidCommServices().Single();
            Assert.That(service.IsV2, Is.False, $"{method}: a DIDComm v1 service (RFC 0019 senders encrypt to its Ed25519 recipient key)");
            Assert.That(service.Endpoint, Is.EqualTo(mediator.Agent.Endpoint), method);
            Assert.That(service.RoutingKeys.Select(Rfc0094.ToVerkey), Is.EqualTo(new[] { routingVerkey }), method);
            Assert.That(service.RecipientKeys, Is.EqualTo(new[] { did.Key.Verkey }), method);
            Assert.That(mediator.Agent.Store.GetMediation(mBob.Id)!.RecipientKeys, Does.Contain(did.Key.Verkey), $"{method} key registered");
        }
    }

    [Test]
    public async Task The_recipient_accepts_base58_routing_keys_and_unthreaded_grants_but_refuses_a_garbage_routing_key()
    {
        await using var agents = new TestAgents();
        var mediator = await agents.StartAsync("Mediator", o => o.Mediator = true);
        var bob = await agents.StartAsync("Bob");
        var carol = await agents.StartAsync("Carol");

        // A pre-RFC mediator: base58 routing keys, and a grant without ~thread. Kept as did:key (RFC 0360) for DID docs.
        mediator.Agent.Mediation.DidKeyRoutingKeys = false;
        mediator.Agent.Misbehaviour.Add(new Misbehaviour.MisbehaviourRule("mediate-grant", "grant without ~thread") { Mutate = j => { j.Remove("~thread"); return j; } });
        var (mBob, bobSide) = await GrantedAsync(mediator, bob.Agent);
        var grant = Single(agents, "Bob", "in", "mediate-grant");
        Assert.That(grant["~thread"], Is.Null);
        var base58 = Str(grant["routing_keys"]![0])!;
        Assert.That(base58, Does.Not.StartWith("did:"));
        Assert.That(bob.Agent.Mediation.RoutingFor(bobSide.Id)!.RoutingKeys, Is.EqualTo(new[] { Rfc0094.ToDidKey(base58) }));
        Assert.That(mediator.Agent.Store.GetMediation(mBob.Id)!.RoutingKeys, Is.EqualTo(new[] { base58 }));

        // A routing key that is no key: the grant is refused with a problem report and the request stays open.
        mediator.Agent.Misbehaviour.Add(new Misbehaviour.MisbehaviourRule("mediate-grant", "garbage routing key") { Mutate = j => { j["routing_keys"] = new JsonArray("garbage"); return j; } });
        var (_, carolSide) = PreEstablished.ConnectTo(mediator, carol.Agent);
        await carol.Agent.Mediation.RequestMediationAsync(carolSide.Id);
        var report = await TestAgents.WaitForAsync(() => Messages(agents, "Mediator", "in", "problem-report").FirstOrDefault(), "Carol's problem report");
        Assert.That(Str(report["@type"]), Is.EqualTo("https://didcomm.org/coordinate-mediation/1.0/problem-report"));
        Assert.That(Str(report["description"]!["code"]), Is.EqualTo("e.p.msg"));
        Assert.That(Str(report["description"]!["en"]), Does.Contain("garbage").And.Contain("neither an Ed25519 did:key nor a base58 verkey"));
        Assert.That(carol.Agent.Store.GetMediation(carolSide.Id)!.State, Is.EqualTo("request-sent"));
        Assert.That(carol.Agent.Mediation.RoutingFor(carolSide.Id), Is.Null);
    }

    [Test]
    public async Task The_backchannel_drives_request_grant_and_reads_both_records()
    {
        await using var agents = new TestAgents();
        var mediator = await agents.StartAsync("Mediator", null, new AgentHostOptions { BackchannelPort = 0 });
        var bob = await agents.StartAsync("Bob", null, new AgentHostOptions { BackchannelPort = 0 });
        var (mSide, bobSide) = PreEstablished.ConnectTo(mediator, bob.Agent);
        using var http = new HttpClient();

        async Task<JsonObject> Post(AgentHost h, string path, string id, int status = 200)
        {
            using var r = await http.PostAsJsonAsync(new Uri(h.BackchannelUrl!, "agent/command/" + path), new { id });
            Assert.That((int)r.StatusCode, Is.EqualTo(status), path);
            return (await r.Content.ReadFromJsonAsync<JsonObject>())!;
        }
        async Task<JsonObject> Get(AgentHost h, string id) =>
            (await http.GetFromJsonAsync<JsonObject>(new Uri(h.BackchannelUrl!, "agent/command/mediation/" + id)))!;

        Assert.That(Str((await Post(bob, "mediation/send-request", bobSide.Id))["state"]), Is.EqualTo("request-sent"));
        await TestAgents.WaitUntilAsync(() => mediator.Agent.Store.GetMediation(mSide.Id)?.State == "request-received", "request received");
        var m = await Get(mediator, mSide.Id);
        Assert.That((Str(m["state"]), Str(m["role"])), Is.EqualTo(("request-received", "mediator")));
        Assert.That(Str((await Post(mediator, "mediation/send-grant", mSide.Id))["state"]), Is.EqualTo("granted"));
        await bob.Agent.Mediation.WaitForMediationAsync(bobSide.Id);
        var b = await Get(bob, bobSide.Id);
        Assert.That((Str(b["state"]), Str(b["role"])), Is.EqualTo(("granted", "recipient")));
        // Denying a granted mediation is a wrong-state request: 400 with a one-line reason.
        var error = await Post(mediator, "mediation/send-deny", mSide.Id, 400);
        Assert.That(Str(error["error"]), Does.Contain("only a received request can be denied"));
    }
}
