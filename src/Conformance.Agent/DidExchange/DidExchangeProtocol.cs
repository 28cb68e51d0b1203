using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Messages;

namespace Conformance.Agent.DidExchange;

/// <summary>RFC 0023 didexchange 1.0/1.1 (API contract; implemented in this folder).</summary>
public sealed partial class DidExchangeProtocol(ReferenceAgent agent) : IProtocolHandler
{
    private readonly ReferenceAgent _agent = agent;

    public bool Handles(MessageType type) => throw new NotImplementedException();
    public Task HandleAsync(InboundMessage inbound, CancellationToken ct) => throw new NotImplementedException();

    /// <summary>Requester: starts a didexchange for an OOB invitation with the chosen handshake protocol URI; sends the request when auto-accepting.</summary>
    public Task<ConnectionRecord> StartFromOobAsync(JsonObject oobInvitation, string handshakeProtocol, OutOfBand.OobReceiveOptions o, CancellationToken ct = default) => throw new NotImplementedException();
    /// <summary>Requester, implicit invitation: request to the DIDComm service of a public DID (pthid = DID URL of the service).</summary>
    public Task<ConnectionRecord> CreateRequestToPublicDidAsync(string theirPublicDid, string? label = null, bool? autoAccept = null, CancellationToken ct = default) => throw new NotImplementedException();
    public Task<ConnectionRecord> SendRequestAsync(string connectionId, CancellationToken ct = default) => throw new NotImplementedException();
    /// <summary>Responder: sends the response for a received request.</summary>
    public Task<ConnectionRecord> AcceptRequestAsync(string connectionId, CancellationToken ct = default) => throw new NotImplementedException();
    /// <summary>Requester in manual mode: sends the complete for a received response.</summary>
    public Task<ConnectionRecord> AcceptResponseAsync(string connectionId, CancellationToken ct = default) => throw new NotImplementedException();
}
