using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Connections;

/// <summary>The three invitation forms of RFC 0160 §0.</summary>
public enum ConnectionsInvitationForm { InlineKeys, PublicDid, DidServiceEndpoint }

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
}

/// <summary>RFC 0160 connections/1.0 (API contract; implemented in this folder).</summary>
public sealed partial class ConnectionsProtocol(ReferenceAgent agent) : IProtocolHandler
{
    public const string Family = "connections/1.0";
    private readonly ReferenceAgent _agent = agent;

    public bool Handles(MessageType type) => throw new NotImplementedException();
    public Task HandleAsync(InboundMessage inbound, CancellationToken ct) => throw new NotImplementedException();

    public Task<(InvitationRecord Record, JsonObject Invitation, string Url)> CreateInvitationAsync(ConnectionsInvitationOptions o, CancellationToken ct = default) => throw new NotImplementedException();
    /// <summary>Receives a connections/1.0 invitation (state invited); sends the request at once when auto-accepting.</summary>
    public Task<ConnectionRecord> ReceiveInvitationAsync(JsonObject invitation, bool? autoAccept = null, string? label = null, string? mediatorConnectionId = null, CancellationToken ct = default) => throw new NotImplementedException();
    /// <summary>Invitee: sends the request for a received invitation.</summary>
    public Task<ConnectionRecord> AcceptInvitationAsync(string connectionId, CancellationToken ct = default) => throw new NotImplementedException();
    /// <summary>Inviter: sends the response for a received request.</summary>
    public Task<ConnectionRecord> AcceptRequestAsync(string connectionId, CancellationToken ct = default) => throw new NotImplementedException();
    /// <summary>OOB invitation whose chosen handshake is connections/1.0: request with pthid = invitation @id.</summary>
    public Task<ConnectionRecord> StartFromOobAsync(JsonObject oobInvitation, OutOfBand.OobReceiveOptions o, CancellationToken ct = default) => throw new NotImplementedException();
    /// <summary>RFC 0160 §3: "Receipt of a message puts the inviter into the complete state."</summary>
    public void OnAnyMessage(ConnectionRecord c) => throw new NotImplementedException();
}
