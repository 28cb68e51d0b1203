using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;
using Conformance.Wire.Messages;

namespace Conformance.Suites.Rfc0211;

[Suite("RFC0211", "Coordinate Mediation: the recipient", Mediations.Section + "#mediation-request")]
public static class Rfc0211Recipient
{
    private static async Task<(Link Link, JsonObject Request)> AutRequests(CaseContext c, string handshake, bool grant = true)
    {
        var link = await Mediations.ConnectAsync(c, handshake, o => { o.Mediator = true; o.AutoAccept = grant; });
        await c.Backchannel.MediationSendRequestAsync(link.AutConnectionId);
        var request = await Flows.ExpectFromAutAsync(c, "mediate-request", "The recipient sends mediate-request on the connection (RFC 0211 §Mediation Request).");
        return (link, request);
    }

    [Case("RFC0211-RECIPIENT-001",
        "Mediation Request: this message serves as a request from the recipient to the mediator, asking for the permission (and routing information) to publish the endpoint as a mediator.",
        Aath = "T001-RFC0211 (Acme requests mediation from Bob; didexchange connection)")]
    public static async Task Recipient_requests_mediation_over_didexchange(CaseContext c)
    {
        var (link, req) = await AutRequests(c, "didexchange");
        var type = Flows.OptStr(req, "@type");
        c.Must("The request is coordinate-mediation/1.0/mediate-request.", MessageType.TryParse(type, out var t) && t!.Matches("coordinate-mediation", 1, "mediate-request"),
            "https://didcomm.org/coordinate-mediation/1.0/mediate-request", type);
        await Mediations.AutMediationReachesAsync(c, link.AutConnectionId, "The recipient has the mediator set up after the grant (T001-RFC0211: Acme has Bob set up as a mediator).", "granted");
    }

    [Case("RFC0211-RECIPIENT-002",
        "Mediation Request over a connections/1.0 connection: the recipient asks the mediator and records the grant.",
        Aath = "T001-RFC0211 (0160 connection)")]
    public static async Task Recipient_requests_mediation_over_0160(CaseContext c)
    {
        var (link, _) = await AutRequests(c, "0160");
        await Mediations.AutMediationReachesAsync(c, link.AutConnectionId, "The recipient has the mediator set up after the grant.", "granted");
    }

    [Case("RFC0211-RECIPIENT-003",
        "Mediation Deny: this message serves as notification of the mediator denying the recipient's request for mediation.",
        Aath = "T003-RFC0211 @wip (Bob denies the mediation request from Acme)")]
    public static async Task Recipient_records_a_deny(CaseContext c)
    {
        var (link, req) = await AutRequests(c, "didexchange", grant: false);
        await link.Peer.Agent.Mediation.DenyAsync(link.PeerConnectionId);
        await Mediations.AutMediationReachesAsync(c, link.AutConnectionId, "The recipient records that mediation was denied.", "denied");
    }

    [Case("RFC0211-RECIPIENT-004",
        "When a new key is used by the recipient, it must be registered with the mediator to enable route identification. This is done with a keylist-update message.",
        Section = "keylist-update", Aath = "T002-RFC0211 (Acme uses Bob as a mediator)")]
    public static async Task Recipient_registers_a_new_key_before_using_it(CaseContext c)
    {
        var (link, _) = await AutRequests(c, "didexchange");
        await Mediations.AutMediationReachesAsync(c, link.AutConnectionId, "Mediation is granted.", "granted");
        var created = await c.Backchannel.ConnectionCreateInvitationAsync(new JsonObject { ["mediator_connection_id"] = link.AutConnectionId });
        var inv = created["invitation"] as JsonObject;
        var key = (inv?["recipientKeys"] as JsonArray)?[0]?.ToString();
        c.Require("The recipient creates an invitation routed through the mediator.", key, "an invitation with recipientKeys", created.ToJsonString());
        var update = await Flows.ExpectFromAutAsync(c, "keylist-update", "The recipient registers the invitation key with keylist-update.");
        var added = (update["updates"] as JsonArray)?.OfType<JsonObject>().Where(u => Flows.OptStr(u, "action") == "add")
            .Select(u => Flows.Verkey(Flows.OptStr(u, "recipient_key"))).ToList() ?? [];
        c.Must("The keylist-update adds the new key.", added.Contains(key!), key, string.Join(", ", added));
    }

    [Case("RFC0211-RECIPIENT-005",
        "Use of the forward message in the Routing Protocol requires an exchange of information. The Recipient must know which endpoint and routing key(s) to share: those of the mediate-grant.",
        Section = "mediation-grant", Aath = "T002-RFC0211 (Acme and Faber create a new connection using the mediator)")]
    public static async Task Recipient_advertises_the_mediator_endpoint_and_routing_keys(CaseContext c)
    {
        var (link, _) = await AutRequests(c, "didexchange");
        await Mediations.AutMediationReachesAsync(c, link.AutConnectionId, "Mediation is granted.", "granted");
        var grant = Flows.SentByPeer(c, "mediate-grant")!;
        var created = await c.Backchannel.ConnectionCreateInvitationAsync(new JsonObject { ["mediator_connection_id"] = link.AutConnectionId });
        var inv = (JsonObject)created["invitation"]!;
        c.Must("The invitation's serviceEndpoint is the mediator's endpoint from the grant.", Flows.OptStr(inv, "serviceEndpoint") == Flows.OptStr(grant, "endpoint"),
            Flows.OptStr(grant, "endpoint"), Flows.OptStr(inv, "serviceEndpoint"));
        var granted = (grant["routing_keys"] as JsonArray)?.Select(k => Flows.Verkey(k?.ToString())).ToList() ?? [];
        var used = (inv["routingKeys"] as JsonArray)?.Select(k => Flows.Verkey(k?.ToString())).ToList() ?? [];
        c.Must("The invitation's routingKeys are the grant's routing keys.", granted.Count > 0 && granted.All(used.Contains), string.Join(", ", granted), string.Join(", ", used));
    }
}

[Suite("RFC0211", "Coordinate Mediation: the mediator", Mediations.Section + "#mediation-grant")]
public static class Rfc0211Mediator
{
    private static async Task<(Link Link, string RequestId)> PeerRequests(CaseContext c, string handshake)
    {
        var link = await Mediations.ConnectAsync(c, handshake);
        var record = await link.Peer.Agent.Mediation.RequestMediationAsync(link.PeerConnectionId);
        var request = Flows.SentByPeer(c, "mediate-request")!;
        await Mediations.AutMediationReachesAsync(c, link.AutConnectionId, "The mediator records the mediation request.", "request-received", "request", "granted");
        return (link, Flows.OptStr(request, "@id")!);
    }

    /// <summary>"Bob grants the mediation request": through the backchannel, unless the mediator already granted on its own.</summary>
    private static async Task GrantUnlessGrantedAsync(CaseContext c, Link link)
    {
        if (await Mediations.AutMediationStateAsync(c, link.AutConnectionId) != "granted")
            await c.Backchannel.MediationSendGrantAsync(link.AutConnectionId);
    }

    [Case("RFC0211-MEDIATOR-001",
        "Mediation Grant: a route grant through the mediator; endpoint: the endpoint reported to mediation client connections; routing_keys: list of keys in intended routing order.",
        Aath = "T001-RFC0211 (Bob grants the mediation request from Acme; didexchange)")]
    public static async Task Mediator_grants_with_endpoint_and_routing_keys(CaseContext c)
    {
        var (link, requestId) = await PeerRequests(c, "didexchange");
        await GrantUnlessGrantedAsync(c, link);
        var grant = await Flows.ExpectFromAutAsync(c, "mediate-grant", "The mediator sends mediate-grant.");
        c.Must("mediate-grant threads to the request (~thread.thid).", Flows.ThreadId(grant) == requestId, requestId, Flows.ThreadId(grant));
        c.Must("mediate-grant carries an endpoint.", Flows.OptStr(grant, "endpoint") is { Length: > 0 }, "endpoint", grant.ToJsonString());
        c.Must("mediate-grant carries routing_keys.", grant["routing_keys"] is JsonArray { Count: > 0 }, "routing_keys", grant.ToJsonString());
    }

    [Case("RFC0211-MEDIATOR-002",
        "Mediation Grant over a connections/1.0 connection.", Aath = "T001-RFC0211 (0160 connection)")]
    public static async Task Mediator_grants_over_0160(CaseContext c)
    {
        var (link, _) = await PeerRequests(c, "0160");
        await GrantUnlessGrantedAsync(c, link);
        await Flows.ExpectFromAutAsync(c, "mediate-grant", "The mediator sends mediate-grant.");
    }

    [Case("RFC0211-MEDIATOR-003",
        "Mediation Deny: this message serves as notification of the mediator denying the recipient's request for mediation.",
        Aath = "T003-RFC0211 @wip (Bob has denied the mediation request from Acme)")]
    public static async Task Mediator_denies(CaseContext c)
    {
        var (link, requestId) = await PeerRequests(c, "didexchange");
        if (await Mediations.AutMediationStateAsync(c, link.AutConnectionId) == "granted")
            throw CaseContext.Unsupported("the mediator granted automatically; it cannot be asked to deny");
        await c.Backchannel.MediationSendDenyAsync(link.AutConnectionId);
        var deny = await Flows.ExpectFromAutAsync(c, "mediate-deny", "The mediator sends mediate-deny.");
        c.Must("mediate-deny threads to the request.", Flows.ThreadId(deny) == requestId, requestId, Flows.ThreadId(deny));
    }

    [Case("RFC0211-MEDIATOR-004",
        "Keylist Update Response: confirmation of requested keylist updates; updated: list of update results for each update.",
        Section = "keylist-update-response")]
    public static async Task Mediator_answers_keylist_update(CaseContext c)
    {
        var (link, _) = await PeerRequests(c, "didexchange");
        await GrantUnlessGrantedAsync(c, link);
        await Flows.ExpectFromAutAsync(c, "mediate-grant", "The mediator grants.");
        var key = link.Peer.Agent.Wallet.CreateKey();
        await link.Peer.Agent.Mediation.KeylistUpdateAsync(link.PeerConnectionId, [key.Verkey], []);
        var response = await Flows.ExpectFromAutAsync(c, "keylist-update-response", "The mediator answers keylist-update with keylist-update-response.");
        var results = (response["updated"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var mine = results.FirstOrDefault(r => Flows.Verkey(Flows.OptStr(r, "recipient_key")) == key.Verkey);
        c.Must("The response has a result for the added key.", mine != null, key.Verkey, response.ToJsonString());
        c.Must("The add succeeded (result success).", Flows.OptStr(mine, "result") == "success" && Flows.OptStr(mine, "action") == "add", "action add, result success", mine?.ToJsonString());
    }

    [Case("RFC0211-MEDIATOR-005",
        "Key List Query: query mediator for a list of keys registered for this connection; Key List: response to key list query, containing retrieved keys.",
        Level = Level.SHOULD, Section = "key-list-query")]
    public static async Task Mediator_answers_keylist_query(CaseContext c)
    {
        var (link, _) = await PeerRequests(c, "didexchange");
        await GrantUnlessGrantedAsync(c, link);
        await Flows.ExpectFromAutAsync(c, "mediate-grant", "The mediator grants.");
        var key = link.Peer.Agent.Wallet.CreateKey();
        await link.Peer.Agent.Mediation.KeylistUpdateAsync(link.PeerConnectionId, [key.Verkey], []);
        await Flows.ExpectFromAutAsync(c, "keylist-update-response", "The mediator confirms the update.");
        var queryTask = link.Peer.Agent.Mediation.KeylistQueryAsync(link.PeerConnectionId);
        var keylist = await c.ReceivedAsync("keylist");
        c.Should("The mediator answers keylist-query with a keylist.", keylist?.Plaintext != null, "keylist", Flows.Received(c));
        if (keylist?.Plaintext is { } kl)
        {
            var keys = (kl["keys"] as JsonArray)?.OfType<JsonObject>().Select(k => Flows.Verkey(Flows.OptStr(k, "recipient_key"))).ToList() ?? [];
            c.Must("The keylist contains the registered key.", keys.Contains(key.Verkey), key.Verkey, string.Join(", ", keys));
        }
    }
}

[Suite("RFC0211", "Coordinate Mediation: connecting through the mediator", Mediations.Section + "#mediation-grant", RunsAlone = true)] // reconfigures the agent's transports
public static class Rfc0211Through
{
    /// <summary>
    /// "Acme (AUT) has Bob set up as a mediator; Acme uses Bob as a mediator; Acme and Faber create a new connection":
    /// the AUT invites Faber through the mediator (its endpoint and routing keys), Faber's request reaches the AUT by
    /// way of Bob, and the connection completes.
    /// </summary>
    private static async Task ConnectThroughMediator(CaseContext c, params string[] autInbound)
    {
        // Without inbound transport, Acme can only be reached on a socket it keeps open to its mediator: Bob then
        // advertises WebSocket only.
        var edge = autInbound.Length == 0;
        var bob = await c.PeerAsync("Bob", o => { o.Mediator = true; o.AutoAccept = true; },
            new Agent.Transport.AgentHostOptions { AdvertiseHttp = !edge, AdvertiseWs = true, PublicDid = true });
        await c.Backchannel.StartAsync(new JsonObject { ["inbound_transports"] = new JsonArray(autInbound.Select(t => (JsonNode)t).ToArray()), ["outbound_transports"] = new JsonArray("http", "ws") });
        try
        {
            var bobInv = await bob.Agent.OutOfBand.CreateInvitationAsync(new() { HandshakeProtocols = [DidExchanges.Protocol("1.1")], AutoAccept = true });
            var autMediatorConn = await OutOfBands.AutReceivesAsync(c, bobInv.Invitation);
            await Flows.AutDidExchangeStateAsync(c, autMediatorConn, "Acme connects to its mediator Bob.", "completed");
            await c.Backchannel.MediationSendRequestAsync(autMediatorConn);
            await Mediations.AutMediationReachesAsync(c, autMediatorConn, "Acme has Bob set up as a mediator.", "granted");
            var created = await c.Backchannel.ConnectionCreateInvitationAsync(new JsonObject { ["mediator_connection_id"] = autMediatorConn });
            var autId = Flows.Str(created, "connection_id");
            var inv = (JsonObject)created["invitation"]!;
            var faber = await c.PeerAsync("Faber", o => o.AutoAccept = true);
            var fc = await faber.Agent.Connections.ReceiveInvitationAsync(inv, autoAccept: true);
            await Flows.AutConnectionStateAsync(c, autId, "Faber's request reaches Acme through the mediator.", "request");
            await c.Backchannel.ConnectionAcceptRequestAsync(autId);
            await Flows.PeerStateAsync(c, faber, fc.Id, "Acme and Faber have a connection made through the mediator.", "responded", "complete");
            var forwards = c.Tap.Events.Count(e => e.Direction == "in" && e.Type?.EndsWith("routing/1.0/forward") == true);
            c.Must("Faber's messages to Acme went through the mediator (forwards arrived at Bob).", forwards >= 1, "≥ 1 forward at the mediator", forwards.ToString());
        }
        finally
        {
            await c.Backchannel.StartAsync(new JsonObject());
        }
    }

    [Case("RFC0211-THROUGH-001",
        "Use of the forward message in the Routing Protocol requires an exchange of information: the recipient shares the mediator's endpoint and routing keys, and messages to it travel through the mediator.",
        Aath = "T005-RFC0211 (two agents creating a connection using a mediator with overlapping transports)")]
    public static Task Connection_through_the_mediator_with_overlapping_transports(CaseContext c) => ConnectThroughMediator(c, "http", "ws");

    [Case("RFC0211-THROUGH-002",
        "A recipient without any inbound transport can still be reached: the mediator holds its endpoint, and the recipient receives over the connection it keeps to the mediator (RFC 0092 return route).",
        Level = Level.SHOULD, Aath = "T004-RFC0211 (two agents creating a connection using a mediator without having inbound transports)")]
    public static Task Connection_through_the_mediator_without_inbound_transport(CaseContext c) => ConnectThroughMediator(c);
}
