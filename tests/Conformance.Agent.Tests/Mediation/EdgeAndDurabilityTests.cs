using Conformance.Agent.Core;
using Conformance.Agent.Storage;
using Conformance.Agent.Tests.Support;
using Conformance.Agent.Transport;
using Conformance.Wire.Envelopes;
using static Conformance.Agent.Tests.Mediation.Flows;

namespace Conformance.Agent.Tests.Mediation;

/// <summary>Seed 000 (an edge client without an endpoint receiving through its mediator), restart durability, determinism.</summary>
public class EdgeAndDurabilityTests
{
    [Test]
    public async Task An_edge_client_without_an_endpoint_receives_through_its_mediator_by_pickup()
    {
        await using var agents = new TestAgents();
        var mediator = await agents.StartAsync("Mediator", o => o.Mediator = true);
        var edge = await agents.StartAsync("Edge", null, new AgentHostOptions { NoInbound = true });
        var carol = await agents.StartAsync("Carol");
        Assert.That(edge.Agent.Endpoint, Is.Null, "the edge advertises no endpoint");

        // Every answer of the mediator travels back on the edge's own HTTP request (RFC 0092 return_route all).
        var (mEdge, edgeSide) = PreEstablished.ConnectTo(mediator, edge.Agent);
        var record = await edge.Agent.Mediation.RequestMediationAsync(edgeSide.Id);
        Assert.That(record.State, Is.EqualTo("granted"), "the grant came back on the request's HTTP response");
        Assert.That(Str(Single(agents, "Edge", "out", "mediate-request")["~transport"]!["return_route"]), Is.EqualTo("all"));
        Assert.That(WireOf(agents, "Mediator", "out").Single(e => e.Type?.EndsWith("/mediate-grant") == true).Transport, Is.EqualTo("return-route"));

        var edgeDid = await edge.Agent.Mediation.CreateRoutedDidAsync(edgeSide.Id, "peer:2");
        var (carolSide, _) = PreEstablished.Connect(carol.Agent, edge.Agent, bDid: edgeDid);
        var pingId = await carol.Agent.TrustPing.SendPingAsync(carolSide);
        Assert.That(mediator.Agent.Store.QueueCount([edgeDid.Key.Verkey]), Is.EqualTo(1), "the forward landed in the edge's queue");

        var status = await edge.Agent.Mediation.StatusRequestAsync(edgeSide.Id);
        Assert.That(status["message_count"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(await edge.Agent.Mediation.PickupAsync(edgeSide.Id), Is.EqualTo(1));
        await WaitForEventAsync(agents, "Carol", AgentEvent.TrustPingResponse, pingId, "Carol gets the edge's ping_response");
        Assert.That(mediator.Agent.Store.QueueCount([edgeDid.Key.Verkey]), Is.Zero);
        Assert.That(mediator.Agent.Store.GetMediation(mEdge.Id)!.RecipientKeys, Is.EqualTo(new[] { edgeDid.Key.Verkey }));
    }

    [Test]
    public async Task A_queued_forward_survives_a_mediator_restart_on_sqlite_and_is_picked_up_exactly_once()
    {
        var db = Path.Combine(Path.GetTempPath(), $"conformance-med-{Guid.NewGuid():N}.db");
        ReferenceAgent? first = null, second = null;
        AgentHost? firstHost = null, secondHost = null;
        try
        {
            await using var agents = new TestAgents();
            first = new ReferenceAgent(new AgentOptions { Label = "Mediator", Mediator = true, DatabasePath = db });
            firstHost = await AgentHost.StartAsync(first, new AgentHostOptions());
            var edge = await agents.StartAsync("Edge", null, new AgentHostOptions { NoInbound = true });
            var carol = await agents.StartAsync("Carol");
            var (mEdge, edgeSide) = await GrantedAsync(firstHost, edge.Agent);
            var routingVerkey = Rfc0094.ToVerkey(edge.Agent.Mediation.RoutingFor(edgeSide.Id)!.RoutingKeys[0]);
            var edgeDid = await edge.Agent.Mediation.CreateRoutedDidAsync(edgeSide.Id, "peer:4");
            var (carolSide, _) = PreEstablished.Connect(carol.Agent, edge.Agent, bDid: edgeDid);

            var pingId = await carol.Agent.TrustPing.SendPingAsync(carolSide); // a real forward: returns once the mediator acknowledged it
            var port = firstHost.HttpEndpoint.Port;
            await firstHost.DisposeAsync();
            await first.DisposeAsync();
            firstHost = null;
            first = null;

            second = new ReferenceAgent(new AgentOptions { Label = "Mediator", Mediator = true, DatabasePath = db });
            Assert.That(second.Wallet.Holds(routingVerkey), "the routing key came back from the store");
            Assert.That(second.Store.GetMediation(mEdge.Id)!.RecipientKeys, Does.Contain(edgeDid.Key.Verkey));
            Assert.That(second.Store.QueueCount([edgeDid.Key.Verkey]), Is.EqualTo(1), "the forwarded message is still queued");
            secondHost = await AgentHost.StartAsync(second, new AgentHostOptions { Port = port });

            Assert.That(await edge.Agent.Mediation.PickupAsync(edgeSide.Id), Is.EqualTo(1));
            await WaitForEventAsync(agents, "Carol", AgentEvent.TrustPingResponse, pingId, "the edge answered the ping it picked up");
            Assert.That(await edge.Agent.Mediation.PickupAsync(edgeSide.Id), Is.Zero, "picked up exactly once");
            Assert.That(EventCount(agents, "Edge", AgentEvent.MessageReceived, pingId), Is.EqualTo(1), "processed exactly once");

            await secondHost.DisposeAsync();
            await second.DisposeAsync();
            secondHost = null;
            second = null;
            using var reopened = AgentStore.OpenSqlite(db);
            Assert.That(reopened.QueueCount([edgeDid.Key.Verkey]), Is.Zero, "the removal is durable too");
        }
        finally
        {
            if (firstHost != null) await firstHost.DisposeAsync();
            if (first != null) await first.DisposeAsync();
            if (secondHost != null) await secondHost.DisposeAsync();
            if (second != null) await second.DisposeAsync();
            foreach (var f in new[] { db, db + "-wal", db + "-shm" }) File.Delete(f);
        }
    }

    [Test]
    public async Task Seeded_agents_produce_byte_identical_mediation_and_pickup_messages()
    {
        async Task<List<string>> RunAsync()
        {
            await using var agents = new TestAgents();
            // A fixed advertised endpoint, so that the grant does not carry the random port.
            var mediator = await agents.StartAsync("Mediator", o => { o.Mediator = true; o.Seed = "mediator-seed"; o.Endpoints.Add("http://mediator.example/didcomm"); });
            var edge = await agents.StartAsync("Edge", o => o.Seed = "edge-seed", new AgentHostOptions { NoInbound = true });
            var (_, edgeSide) = await GrantedAsync(mediator, edge.Agent);
            await edge.Agent.Mediation.CreateRoutedDidAsync(edgeSide.Id, "peer:2");
            await edge.Agent.Mediation.KeylistQueryAsync(edgeSide.Id);
            await edge.Agent.Mediation.StatusRequestAsync(edgeSide.Id);
            await edge.Agent.Mediation.PickupAsync(edgeSide.Id);
            return agents.Wire.Where(w => w.Event.Direction == "out").Select(w => $"{w.Agent} {w.Event.Envelope}").ToList();
        }

        var first = await RunAsync();
        var second = await RunAsync();
        // mediate-request/grant, keylist-update/response, keylist-query/keylist, status-request/status, delivery-request/status
        Assert.That(first, Has.Count.EqualTo(10));
        Assert.That(second, Is.EqualTo(first));
    }
}
