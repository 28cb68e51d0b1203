using System.Text.Json.Nodes;
using Conformance.Agent.Transport;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;

namespace Conformance.Suites.Rfc0025;

[Suite("RFC0025", "DIDComm Transports", "aries-rfcs/0025-didcomm-transports/README.md", RunsAlone = true)] // reconfigures the agent's transports
public static class Rfc0025Transports
{
    /// <summary>"Acme is running with parameters {inbound_transports: [...]}" — through the AATH agent/start call.</summary>
    private static async Task AutInbound(CaseContext c, params string[] inbound)
    {
        var p = new JsonObject { ["inbound_transports"] = new JsonArray(inbound.Select(i => (JsonNode)i).ToArray()), ["outbound_transports"] = new JsonArray("http", "ws") };
        await c.Backchannel.StartAsync(p);
    }

    private static string Scheme(string? url) => url == null ? "none" : url.Split(':')[0];

    /// <summary>Back to the agent's default transports (agent/start without parameters), so a long-lived agent is left as found.</summary>
    private static Task Restore(CaseContext c) => c.Backchannel.StartAsync(new JsonObject());

    private static async Task DidExchangeOver(CaseContext c, string autInbound, string peerInbound)
    {
        try { await DidExchangeOverCore(c, autInbound, peerInbound); }
        finally { await Restore(c); }
    }

    private static async Task DidExchangeOverCore(CaseContext c, string autInbound, string peerInbound)
    {
        await AutInbound(c, autInbound);
        var (known, inv) = await DidExchanges.AutInvitesAsync(c, "1.1");
        var endpoint = OutOfBands.InlineServices(inv).FirstOrDefault()?["serviceEndpoint"]?.ToString();
        c.Must($"The invitation serviceEndpoint uses the {autInbound} protocol scheme.", Scheme(endpoint) == autInbound, autInbound + "://…", endpoint);
        var peer = await c.PeerAsync("Bob", o => o.AutoAccept = true, new AgentHostOptions { AdvertiseHttp = peerInbound == "http", AdvertiseWs = peerInbound == "ws" });
        var r = await peer.Agent.OutOfBand.ReceiveInvitationAsync(inv, new() { AutoAccept = true });
        var autId = await DidExchanges.AutConnectionForInvitationAsync(c, Flows.Str(inv, "@id"), known);
        await Flows.AutDidExchangeStateAsync(c, autId, "The responder receives the request over " + autInbound + ".", "request-received");
        await c.Backchannel.DidExchangeSendResponseAsync(autId);
        await Flows.PeerStateAsync(c, peer, r.Connection!.Id, $"The exchange completes with the requester on {peerInbound}.", "completed");
        var response = c.Tap.Received("response").FirstOrDefault();
        c.Must($"The response reached the requester's {peerInbound} endpoint.", response?.Transport is { } t && (t == peerInbound || t == "return-route" && peerInbound == "ws"),
            peerInbound, response?.Transport);
    }

    [Case("RFC0025-DIDX-001", "HTTP(S): messages are transmitted in an HTTP POST; both agents use HTTP inbound and outbound.",
        Section = "https", Aath = "T001-RFC0025 @Transport_Http (http/http)")]
    public static Task Didexchange_over_http(CaseContext c) => DidExchangeOver(c, "http", "http");

    [Case("RFC0025-DIDX-002", "WebSocket: DIDComm messages are transmitted over a WebSocket; both agents use WS inbound.",
        Section = "websocket", Aath = "T001-RFC0025 @Transport_Ws (ws/ws)")]
    public static Task Didexchange_over_ws(CaseContext c) => DidExchangeOver(c, "ws", "ws");

    [Case("RFC0025-DIDX-003", "One agent using HTTP for inbound and the other WS, both supporting WS and HTTP outbound.",
        Section = "websocket", Aath = "T001-RFC0025 @Transport_Http @Transport_Ws (http/ws)")]
    public static Task Didexchange_http_to_ws(CaseContext c) => DidExchangeOver(c, "http", "ws");

    [Case("RFC0025-DIDX-004", "One agent using WS for inbound and the other HTTP, both supporting WS and HTTP outbound.",
        Section = "websocket", Aath = "T001-RFC0025 @Transport_Http @Transport_Ws (ws/http)")]
    public static Task Didexchange_ws_to_http(CaseContext c) => DidExchangeOver(c, "ws", "http");

    private static async Task ConnectionOver(CaseContext c, string autInbound, string peerInbound)
    {
        try { await ConnectionOverCore(c, autInbound, peerInbound); }
        finally { await Restore(c); }
    }

    private static async Task ConnectionOverCore(CaseContext c, string autInbound, string peerInbound)
    {
        await AutInbound(c, autInbound);
        var (autId, inv) = await Connections160.AutCreatesInvitationAsync(c);
        c.Must($"The invitation serviceEndpoint uses the {autInbound} protocol scheme.", Scheme(Flows.OptStr(inv, "serviceEndpoint")) == autInbound,
            autInbound + "://…", Flows.OptStr(inv, "serviceEndpoint"));
        var peer = await c.PeerAsync("Bob", o => o.AutoAccept = true, new AgentHostOptions { AdvertiseHttp = peerInbound == "http", AdvertiseWs = peerInbound == "ws" });
        var pc = await peer.Agent.Connections.ReceiveInvitationAsync(inv, autoAccept: true);
        await Flows.AutConnectionStateAsync(c, autId, "The inviter receives the request.", "request");
        await c.Backchannel.ConnectionAcceptRequestAsync(autId);
        await Flows.PeerStateAsync(c, peer, pc.Id, $"The connection completes with the invitee on {peerInbound}.", "responded", "complete");
    }

    [Case("RFC0025-CONN-001", "Create 0160 connection between two agents with overlapping transports: HTTP.", Section = "https", Aath = "T002-RFC0025 @Transport_Http")]
    public static Task Connection_over_http(CaseContext c) => ConnectionOver(c, "http", "http");

    [Case("RFC0025-CONN-002", "Create 0160 connection between two agents with overlapping transports: WS.", Section = "websocket", Aath = "T002-RFC0025 @Transport_Ws")]
    public static Task Connection_over_ws(CaseContext c) => ConnectionOver(c, "ws", "ws");

    [Case("RFC0025-CONN-003", "Create 0160 connection: one agent on HTTP inbound, the other on WS.", Section = "websocket", Aath = "T002-RFC0025 (http/ws)")]
    public static Task Connection_http_to_ws(CaseContext c) => ConnectionOver(c, "http", "ws");

    [Case("RFC0025-CONN-004", "Create 0160 connection: one agent on WS inbound, the other on HTTP.", Section = "websocket", Aath = "T002-RFC0025 (ws/http)")]
    public static Task Connection_ws_to_http(CaseContext c) => ConnectionOver(c, "ws", "http");

    [Case("RFC0025-HTTP-001",
        "Messages are transmitted in the body of a POST; a received message should be responded to with a 202 Accepted status code. Accepting a 200 OK status code is allowed.",
        Level = Level.SHOULD, Section = "https")]
    public static async Task Http_inbound_answers_202(CaseContext c)
    {
        var x = await DidExchanges.AutAsResponderAsync(c, "1.1", complete: true);
        var notes = c.Tap.Outbound.Where(e => e.Transport == "http").Select(e => e.Note).ToList();
        c.Must("Every POST to the agent is answered 2xx.", notes.All(n => n != null && n.StartsWith("HTTP 2")), "HTTP 2xx", string.Join(", ", notes));
        c.Should("The agent answers 202 Accepted.", notes.All(n => n == "HTTP 202"), "HTTP 202", string.Join(", ", notes));
    }

    [Case("RFC0025-HTTP-002",
        "The content-type for the POST is application/didcomm-envelope-enc (RFC 0044); agents that still use the older application/ssi-agent-wire are accepted during the transition.",
        Level = Level.SHOULD, Section = "https", Description = "The reference peer posts with the legacy media type application/ssi-agent-wire.")]
    public static async Task Http_inbound_accepts_the_legacy_media_type(CaseContext c)
    {
        var peer = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        peer.Agent.Outbound.ContentType = Outbound.LegacyMediaType;
        var (known, inv) = await DidExchanges.AutInvitesAsync(c, "1.1");
        await peer.Agent.OutOfBand.ReceiveInvitationAsync(inv, new() { AutoAccept = true });
        var post = await c.Tap.WaitAsync(e => e.Direction == "out" && e.Transport == "http", c.Timeout);
        c.Should("The agent accepts a POST with application/ssi-agent-wire.", post?.Note?.StartsWith("HTTP 2") == true, "HTTP 2xx", post?.Note ?? "no POST");
    }
}
