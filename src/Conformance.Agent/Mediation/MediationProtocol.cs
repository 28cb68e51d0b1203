using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Mediation;

/// <summary>RFC 0211 coordinate-mediation 1.0 (both roles), routing/1.0 forward, RFC 0685 pickup 2.0 (API contract).</summary>
public sealed partial class MediationProtocol(ReferenceAgent agent) : IProtocolHandler
{
    private readonly ReferenceAgent _agent = agent;

    public bool Handles(MessageType type) => throw new NotImplementedException();
    public Task HandleAsync(InboundMessage inbound, CancellationToken ct) => throw new NotImplementedException();

    // recipient role
    public Task<MediationRecord> RequestMediationAsync(string connectionId, CancellationToken ct = default) => throw new NotImplementedException();
    public Task KeylistUpdateAsync(string connectionId, IEnumerable<string> add, IEnumerable<string> remove, CancellationToken ct = default) => throw new NotImplementedException();
    public Task<JsonObject> KeylistQueryAsync(string connectionId, CancellationToken ct = default) => throw new NotImplementedException();
    /// <summary>The endpoint and routing keys to advertise when receiving through the mediator of <paramref name="mediatorConnectionId"/>; null if not granted.</summary>
    public ServiceRecord? RoutingFor(string mediatorConnectionId) => throw new NotImplementedException();
    /// <summary>Registers a new key of ours with the mediator (keylist-update add) before it is used in a DID doc or invitation.</summary>
    public Task RegisterKeyAsync(string mediatorConnectionId, string verkey, CancellationToken ct = default) => throw new NotImplementedException();
    // pickup 2.0, recipient role
    public Task<JsonObject> StatusRequestAsync(string connectionId, CancellationToken ct = default) => throw new NotImplementedException();
    public Task<int> PickupAsync(string connectionId, int limit = 10, CancellationToken ct = default) => throw new NotImplementedException();
    public Task SetLiveModeAsync(string connectionId, bool live, CancellationToken ct = default) => throw new NotImplementedException();
    // mediator role (manual mode)
    public Task<MediationRecord> GrantAsync(string connectionId, CancellationToken ct = default) => throw new NotImplementedException();
    public Task<MediationRecord> DenyAsync(string connectionId, CancellationToken ct = default) => throw new NotImplementedException();
}
