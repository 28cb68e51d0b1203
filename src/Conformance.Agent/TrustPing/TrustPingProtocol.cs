using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Messages;

namespace Conformance.Agent.TrustPing;

/// <summary>
/// RFC 0048 trust ping 1.0: <c>ping</c> and <c>ping_response</c>.
/// "response_requested … defaults to true"; a ping_response carries <c>~thread.thid</c> = the ping's @id.
/// A ping also serves as the RFC 0160 ack of a connection (the pipeline counts any message for that).
/// Connectionless (ephemeral, seed 002): a ping without a connection that carries a <c>~service</c> decorator is
/// answered to that service, anoncrypted if it came anoncrypted.
/// </summary>
public sealed class TrustPingProtocol(ReferenceAgent agent) : IProtocolHandler
{
    public const string Family = "trust_ping/1.0";
    public const string PingType = DocUris.DidCommOrg + "trust_ping/1.0/ping";
    public const string ResponseType = DocUris.DidCommOrg + "trust_ping/1.0/ping_response";

    public bool Handles(MessageType type) => type.Protocol == "trust_ping" && type.Major == 1;

    public async Task HandleAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        switch (m.Type.Name)
        {
            case "ping":
                agent.Emit(new AgentEvent(AgentEvent.MessageReceived, inbound.Connection?.Id, m.ThreadId, m.Json));
                var requested = m.Json["response_requested"] is not JsonValue v || !v.TryGetValue<bool>(out var b) || b;
                if (!requested) return;
                var response = agent.NewMessage(m.Type.DocUri + Family + "/ping_response").WithThread(m.Id, null);
                if (inbound.Connection != null)
                {
                    await agent.Outbound.SendAsync(response, inbound.Connection, ct);
                }
                else if (ServiceDecorator.From(m) is { } service)
                {
                    var sender = inbound.SenderVerkey == null ? null : agent.Wallet.Find(inbound.RecipientVerkey);
                    await agent.Outbound.SendToServiceAsync(response, service, sender, null, ct);
                }
                else if (inbound.SenderVerkey != null && inbound.Session is { IsOpen: true } session)
                {
                    agent.Outbound.RegisterReturnRoute(inbound.SenderVerkey, session);
                    await agent.Outbound.SendToServiceAsync(response, new ServiceRecord { RecipientKeys = [inbound.SenderVerkey] },
                        agent.Wallet.Find(inbound.RecipientVerkey), null, ct);
                }
                break;
            case "ping_response":
                agent.Emit(new AgentEvent(AgentEvent.TrustPingResponse, inbound.Connection?.Id, m.Thread?.Thid, m.Json));
                break;
            default:
                throw new ProblemReportException("notification/1.0", "unsupported-message-type", $"trust_ping has no message '{m.Type.Name}'", m.Id);
        }
    }

    /// <summary>Sends a ping on a connection; returns its @id (the thread a ping_response will carry).</summary>
    public async Task<string> SendPingAsync(ConnectionRecord connection, string? comment = null, bool responseRequested = true, CancellationToken ct = default)
    {
        var ping = agent.NewMessage(PingType);
        if (comment != null) ping.Json["comment"] = comment;
        ping.Json["response_requested"] = responseRequested;
        await agent.Outbound.SendAsync(ping, connection, ct);
        return ping.Id;
    }
}

/// <summary>The <c>~service</c> decorator (RFC 0056): where to reply to a connectionless message.</summary>
public static class ServiceDecorator
{
    public static ServiceRecord? From(AgentMessage m)
    {
        if (m.Json["~service"] is not JsonObject s) return null;
        var keys = (s["recipientKeys"] as JsonArray)?.Select(k => k?.GetValue<string>()).OfType<string>().Select(Wire.Envelopes.Rfc0094.ToVerkey).ToList();
        var endpoint = s["serviceEndpoint"]?.GetValue<string>();
        if (keys is not { Count: > 0 } || endpoint == null) return null;
        var routing = (s["routingKeys"] as JsonArray)?.Select(k => k?.GetValue<string>()).OfType<string>().ToList() ?? [];
        return new ServiceRecord { RecipientKeys = keys, RoutingKeys = routing, Endpoint = endpoint };
    }

    public static JsonObject For(string verkey, string? endpoint, IEnumerable<string> routingKeys) => new()
    {
        ["recipientKeys"] = new JsonArray(verkey),
        ["routingKeys"] = new JsonArray(routingKeys.Select(k => (JsonNode)k).ToArray()),
        ["serviceEndpoint"] = endpoint ?? "",
    };
}
