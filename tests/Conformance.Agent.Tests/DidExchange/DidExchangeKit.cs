using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.OutOfBand;
using Conformance.Agent.Tests.Support;
using Conformance.Agent.Transport;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Tests.DidExchange;

/// <summary>Invitations, flows and wire look-ups shared by the didexchange tests.</summary>
internal static class DidExchangeKit
{
    public const string V10 = "https://didcomm.org/didexchange/1.0";
    public const string V11 = "https://didcomm.org/didexchange/1.1";

    /// <summary>An out-of-band invitation of <paramref name="inviter"/> (RFC 0434, made by agent.OutOfBand).</summary>
    public static Task<InvitationRecord> InvitationAsync(ReferenceAgent inviter, string[]? handshakes = null, bool multiUse = false,
        DateTimeOffset? expiresAt = null, bool? autoAccept = null, bool usePublicDid = false)
    {
        if (usePublicDid) inviter.DidExchange.EnsurePublicDid();
        return inviter.OutOfBand.CreateInvitationAsync(new OobInvitationOptions
        {
            HandshakeProtocols = [.. handshakes ?? [V11]],
            MultiUse = multiUse,
            ExpiresAt = expiresAt,
            AutoAccept = autoAccept,
            UsePublicDid = usePublicDid,
        });
    }

    /// <summary>The requester side of an explicit invitation, as the out-of-band protocol hands it over.</summary>
    public static Task<ConnectionRecord> AcceptAsync(ReferenceAgent requester, InvitationRecord invitation, string handshake, bool? autoAccept = null) =>
        requester.DidExchange.StartFromOobAsync((JsonObject)invitation.Invitation.DeepClone(), handshake, new OobReceiveOptions { AutoAccept = autoAccept });

    /// <summary>The responder's record for the exchange on <paramref name="thid"/>.</summary>
    public static Task<ConnectionRecord> ResponderRecordAsync(ReferenceAgent responder, Func<string?> thid) =>
        TestAgents.WaitForAsync(() => thid() is { } t ? responder.Store.FindConnection(c => c.ThreadId == t && c.Role == ConnectionRole.Inviter) : null,
            $"{responder.Options.Label} to record the request");

    /// <summary>Plaintexts <paramref name="agent"/> sent, of message name <paramref name="name"/> (e.g. "request").</summary>
    public static List<JsonObject> Sent(TestAgents agents, string agent, string name) =>
        agents.Wire.Where(w => w.Agent == agent && w.Event.Direction == "out" && w.Event.Plaintext != null && w.Event.Type != null
                               && MessageType.Parse(w.Event.Type).Name == name)
            .Select(w => w.Event.Plaintext!).ToList();

    /// <summary>Waits for the problem report on a record and returns it.</summary>
    public static Task<JsonObject> ProblemReportAsync(ReferenceAgent agent, string connectionId) =>
        TestAgents.WaitForAsync(() => agent.Store.GetConnection(connectionId)?.ProblemReport,
            $"{agent.Options.Label} connection {connectionId} to hold a problem report");

    public static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>The JSON document in an attachment's data.base64.</summary>
    public static JsonObject AttachedJson(JsonObject message, string field) =>
        (JsonObject)Attachment.FromJson((JsonObject)message[field]!).JsonContent();

    /// <summary>Replaces the did_doc~attach of a message with <paramref name="doc"/>, unsigned.</summary>
    public static JsonObject WithUnsignedDoc(JsonObject message, JsonObject doc)
    {
        message["did_doc~attach"] = new JsonObject
        {
            ["@id"] = "replaced",
            ["mime-type"] = "application/json",
            ["data"] = new JsonObject { ["base64"] = Base64Url.Encode(System.Text.Encoding.UTF8.GetBytes(doc.ToJsonString())) },
        };
        return message;
    }

    /// <summary>An edge agent: no inbound endpoint, replies come back on return-route (so a report reaches it even when its DID doc is unusable).</summary>
    public static AgentHostOptions Edge => new() { NoInbound = true };
}
