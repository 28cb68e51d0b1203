using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Messages;

namespace Conformance.Agent.OutOfBand;

/// <summary>What to put in an out-of-band invitation this agent creates.</summary>
public sealed class OobInvitationOptions
{
    /// <summary>Handshake protocols in order of preference, e.g. "https://didcomm.org/didexchange/1.1".</summary>
    public List<string> HandshakeProtocols { get; set; } = ["https://didcomm.org/didexchange/1.1"];
    /// <summary>Plaintext messages for requests~attach (connectionless or "connect then answer").</summary>
    public List<JsonObject> Attachments { get; set; } = [];
    public string? GoalCode { get; set; }
    public string? Goal { get; set; }
    public List<string> Accept { get; set; } = ["didcomm/aip1", "didcomm/aip2;env=rfc19"];
    public bool MultiUse { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public bool? AutoAccept { get; set; }
    public string? Label { get; set; }
    /// <summary>Put the agent's public DID in services instead of an inline service block.</summary>
    public bool UsePublicDid { get; set; }
    /// <summary>Route through the mediator of this connection (its endpoint and routing keys go into the service).</summary>
    public string? MediatorConnectionId { get; set; }
    /// <summary>Reuse this invitation key (so that handshake reuse can recognise the inviter), instead of a new one.</summary>
    public string? RecipientKey { get; set; }
    /// <summary>Service block recipient keys as did:key (RFC 0434 1.1 style) or raw base58 (older agents).</summary>
    public bool DidKeyRecipientKeys { get; set; } = true;
}

/// <summary>How to respond to a received out-of-band invitation.</summary>
public sealed class OobReceiveOptions
{
    public bool UseExistingConnection { get; set; }
    /// <summary>"handshake-reuse" (RFC 0434 messages) or "complete" (the 0023-draft style: a didexchange complete with pthid on the existing connection).</summary>
    public string ReuseStyle { get; set; } = "handshake-reuse";
    public bool? AutoAccept { get; set; }
    public string? Label { get; set; }
    public string? MediatorConnectionId { get; set; }
    /// <summary>Override the negotiation with this handshake protocol URI (harness use); null = first one of the invitation's list we support.</summary>
    public string? PreferredHandshake { get; set; }
}

public sealed record OobReceiveResult(ConnectionRecord? Connection, bool Reused, string State, InvitationRecord? Invitation = null);

/// <summary>RFC 0434 out-of-band 1.1 (API contract; implemented in this folder).</summary>
public sealed partial class OutOfBandProtocol(ReferenceAgent agent) : IProtocolHandler
{
    public const string Family = "out-of-band/1.1";
    private readonly ReferenceAgent _agent = agent;

    public bool Handles(MessageType type) => throw new NotImplementedException();
    public Task HandleAsync(InboundMessage inbound, CancellationToken ct) => throw new NotImplementedException();

    /// <summary>Creates and stores an invitation; the record holds the invitation JSON and its key.</summary>
    public Task<InvitationRecord> CreateInvitationAsync(OobInvitationOptions o, CancellationToken ct = default) => throw new NotImplementedException();

    /// <summary>Receives an invitation: negotiates the handshake (first the receiver supports), reuses a connection if asked and possible, or answers requests~attach connectionless.</summary>
    public Task<OobReceiveResult> ReceiveInvitationAsync(JsonObject invitation, OobReceiveOptions o, CancellationToken ct = default) => throw new NotImplementedException();

    /// <summary>
    /// Called by a handshake protocol when a request names <paramref name="pthid"/>: checks the invitation exists, is not
    /// expired and (single-use) not consumed, and counts the use. Throws <see cref="ProblemReportException"/> in
    /// <paramref name="family"/> otherwise.
    /// </summary>
    public InvitationRecord ClaimInvitation(string pthid, string family, string requestId, ServiceRecord? replyTo) => throw new NotImplementedException();
}
