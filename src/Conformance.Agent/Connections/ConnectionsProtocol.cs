// Aries RFC 0160 "Connection Protocol", connections/1.0 (shared/specs/aries-rfcs/0160-connection-protocol/README.md),
// with the Indy HIPE it came from (shared/specs/seeds/004_*.txt) for the man-in-the-middle check of its §4.
//
// This folder reads top to bottom beside the RFC:
//   ConnectionsProtocol.cs   roles, §States, dispatch of inbound messages, §Errors (problem_report), §3 ack
//   Invitations.cs           §0 "Invitation to Connect": the three forms, c_i URLs, "Agency Endpoint" resolution
//   Request.cs               §1 "Connection Request": sent by the invitee, processed by the inviter
//   Response.cs              §2 "Connection Response": connection~sig (RFC 0234) signed by the inviter, verified by the invitee
//   ConnectionDid.cs         the `connection` attribute {DID, DIDDoc} both messages carry, and the checks on it
//   MitmCheck.cs             seed 004 §4 "Man-in-the-middle": comparison codes over the pair of DID documents
//
// States (RFC 0160 §States): null (no record), invited, requested, responded, complete. Both roles use the same
// names; a record's History lists every state it went through. How each role walks them:
//   inviter: invited (single-use invitation created)  → requested (request received) → responded (response sent)
//            → complete ("Receipt of a message puts the inviter into the complete state", §3).
//            A multi-use or public-DID invitation has no record before a request arrives: those records start at
//            requested.
//   invitee: invited (invitation received) → requested (request sent) → responded (response received and verified)
//            → complete ("After a message is sent, the invitee [is] in the complete state", §3).
// A state is entered before the message that causes it is transmitted (§1 "We are now in the requested state",
// §2 "When the message is transmitted, we are now in the responded state"); replies can arrive while the send is
// still in flight (nested HTTP deliveries), so the record must already say what we are waiting for. If the send
// fails, the record goes back to the state it had, so the step can be retried.
//
// Errors (RFC 0160 §Errors): "These errors are sent using a problem_report message type specific to the connection
// message family" with a `problem-code` and "~thread ... referring to the message which contains the problem".
// A rejection never moves a record: "The request can be resent after the appropriate corrections have been made"
// (and likewise the response). A received problem_report is stored on its record and changes no state.
using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Connections;

/// <summary>The three invitation forms of RFC 0160 §0.</summary>
public enum ConnectionsInvitationForm
{
    /// <summary><c>recipientKeys</c> + URL <c>serviceEndpoint</c> (+ <c>routingKeys</c>): "Invitation Message with Keys and URL endpoint".</summary>
    InlineKeys,
    /// <summary><c>did</c>: "Invitation Message with Public Invitation DID" (needs <see cref="ReferenceAgent.PublicDid"/>).</summary>
    PublicDid,
    /// <summary><c>recipientKeys</c> + <c>serviceEndpoint</c> naming a DID service: "Invitation Message with Keys and DID Service Endpoint Reference"
    /// (the reference is the first DIDComm service of <see cref="ReferenceAgent.PublicDid"/>, whose key acts as the agency key).</summary>
    DidServiceEndpoint,
}

public sealed class ConnectionsInvitationOptions
{
    public ConnectionsInvitationForm Form { get; set; } = ConnectionsInvitationForm.InlineKeys;
    public string? Label { get; set; }
    public bool MultiUse { get; set; }
    public bool? AutoAccept { get; set; }
    public string? MediatorConnectionId { get; set; }
    /// <summary>Use the legacy did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/ prefix on the invitation and the messages of the connection.</summary>
    public bool LegacyPrefix { get; set; }
    public List<string> RoutingKeys { get; set; } = [];
    /// <summary>When the invitation stops being accepted ("Expired Invitation", RFC 0160 §1 Request Errors); null = never.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }
}

/// <summary>RFC 0160 connections/1.0, both roles.</summary>
public sealed partial class ConnectionsProtocol(ReferenceAgent agent) : IProtocolHandler
{
    public const string Family = "connections/1.0";
    public const string ProtocolName = "connections";

    /// <summary>RFC 0160 §States (the null state is the absence of a record).</summary>
    public static class States
    {
        public const string Invited = "invited";
        public const string Requested = "requested";
        public const string Responded = "responded";
        public const string Complete = "complete";
    }

    /// <summary>RFC 0160 §Errors: "The following list details problem-codes that may be sent".</summary>
    public static class ProblemCodes
    {
        public const string RequestNotAccepted = "request_not_accepted";
        public const string RequestProcessingError = "request_processing_error";
        public const string ResponseNotAccepted = "response_not_accepted";
        public const string ResponseProcessingError = "response_processing_error";
    }

    private readonly ReferenceAgent _agent = agent;

    /// <summary>Serialises claims of single-use invitations and the responded → complete step.</summary>
    private readonly Lock _gate = new();

    /// <summary>What a record does not hold but a later manual step needs: the @type prefix of the connection and our label.</summary>
    private readonly ConcurrentDictionary<string, LocalState> _local = new();

    private sealed record LocalState(string DocUri, string? Label);

    /// <summary>
    /// The DID method of the DIDs this agent presents in requests and responses ("unqualified" = the RFC 0160 legacy
    /// DIDDoc that ACA-Py sends; "peer:1", "peer:2", "peer:4" as <see cref="MyDids.Create"/> makes them).
    /// </summary>
    public string DidMethod { get; set; } = "unqualified";

    // ------------------------------------------------------------------ inbound

    public bool Handles(MessageType type) => type.Protocol == ProtocolName && type.Major == 1;

    public Task HandleAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        return m.Type.Name switch
        {
            "request" => HandleRequestAsync(inbound, ct),
            "response" => HandleResponseAsync(inbound, ct),
            "problem_report" or "problem-report" => HandleProblemReport(inbound),
            // §0: "A connection invitation is ... an out-of-band communication and therefore not communicated using wire
            // level encoding" -- an invitation arriving as a DIDComm message is not processed.
            _ => throw new ProblemReportException(Family, "unsupported-message-type",
                $"connections/1.0 has no message '{m.Type.Name}' that can be received over DIDComm", m.ThreadId, m.ParentThreadId),
        };
    }

    /// <summary>§Errors: a received problem_report is kept on its record (found by keys or thread); no state changes.</summary>
    private Task HandleProblemReport(InboundMessage inbound)
    {
        var c = _agent.ProblemReports.Record(inbound);
        _agent.Debug($"connections problem_report {Conformance.Agent.ProblemReport.ProblemReports.CodeOf(inbound.Message.Json) ?? "(no code)"} " +
                     $"received on {(c == null ? "no known connection" : "connection " + c.Id + " (" + c.State + ")")}");
        return Task.CompletedTask;
    }

    // ------------------------------------------------------------------ §3 Connection Acknowledgement

    /// <summary>RFC 0160 §3: "Receipt of a message puts the inviter into the complete state."</summary>
    public void OnAnyMessage(ConnectionRecord c)
    {
        if (c.Protocol == Family && c.Role == ConnectionRole.Inviter) CompleteIfResponded(c);
    }

    /// <summary>RFC 0160 §3: "After a message is sent, the invitee [is] in the complete state." Called by Outbound after a send on a connection.</summary>
    public void OnMessageSent(ConnectionRecord c)
    {
        if (c.Protocol == Family && c.Role == ConnectionRole.Invitee) CompleteIfResponded(c);
    }

    private void CompleteIfResponded(ConnectionRecord c)
    {
        lock (_gate)
        {
            if (c.State != States.Responded) return;
            // Seed 004 §4: both sides keep the comparison codes over the pair of DID documents they hold.
            try
            {
                if (c.MyDidDoc != null && c.TheirDidDoc != null) c.Mitm = MitmCheck.Compute(c.MyDidDoc, c.TheirDidDoc);
            }
            catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException or FormatException)
            {
                _agent.Debug($"connections: no MITM codes for {c.Id}: {e.Message}");   // never in the way of the state machine
            }
            _agent.Transition(c, States.Complete);
        }
    }

    // ------------------------------------------------------------------ helpers

    private ConnectionRecord Record(string connectionId, ConnectionRole role)
    {
        var c = _agent.Store.GetConnection(connectionId) ?? throw new InvalidOperationException($"no connection {connectionId}");
        if (c.Protocol != Family) throw new InvalidOperationException($"connection {connectionId} uses {c.Protocol}, not {Family}");
        if (c.Role != role) throw new InvalidOperationException($"connection {connectionId}: this agent is the {c.Role.ToString().ToLowerInvariant()}, not the {role.ToString().ToLowerInvariant()}");
        return c;
    }

    /// <summary>The @type prefix of a connection's messages: the one the peer used last, else the invitation's.</summary>
    private string DocUriOf(ConnectionRecord c) => _local.TryGetValue(c.Id, out var l) ? l.DocUri : DocUriOfInvitation(c.Invitation);

    private string? LabelOf(ConnectionRecord c) => _local.TryGetValue(c.Id, out var l) ? l.Label : null;

    private void SetDocUri(ConnectionRecord c, string docUri) =>
        _local.AddOrUpdate(c.Id, _ => new LocalState(docUri, null), (_, l) => l with { DocUri = docUri });

    /// <summary>The prefix of a connections invitation's @type, or of the connections entry in an OOB invitation's handshake_protocols.</summary>
    internal static string DocUriOfInvitation(JsonObject? invitation)
    {
        if (invitation == null) return DocUris.DidCommOrg;
        if (invitation["handshake_protocols"] is JsonArray handshakes)
            foreach (var h in handshakes)
                if (Str(h) is { } uri && MessageType.TryParse(uri.TrimEnd('/') + "/request", out var t) && t.Protocol == ProtocolName && t.Major == 1)
                    return t.DocUri;
        return Str(invitation["@type"]) is { } type && MessageType.TryParse(type, out var it) ? it.DocUri : DocUris.DidCommOrg;
    }

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static JsonArray Array(IEnumerable<string> items) => new(items.Select(i => (JsonNode?)i).ToArray());
}
