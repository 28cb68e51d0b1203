// RFC 0434 §Messages "Invitation" (sender side) and §"Reuse Messages" (the sender answering a handshake-reuse).
//
// The invitation this agent writes:
//   {"@type": "https://didcomm.org/out-of-band/1.1/invitation", "@id", "label", "goal_code", "goal", "accept",
//    "handshake_protocols", "requests~attach", "services"}
// with services either one inline block, as in §"The services Item":
//   {"id": "#inline", "type": "did-communication", "recipientKeys": ["did:key:..."], "routingKeys": ["did:key:..."],
//    "serviceEndpoint": "..."}
// or the agent's public DID ("a DID that is resolved to retrieve it's DIDDoc service block").
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Dids;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Messages;

namespace Conformance.Agent.OutOfBand;

public sealed partial class OutOfBandProtocol
{
    /// <summary>Creates and stores an invitation; the record holds the invitation JSON and its key.</summary>
    /// <exception cref="OutOfBandException">The options cannot make a valid invitation (the message says why).</exception>
    public async Task<InvitationRecord> CreateInvitationAsync(OobInvitationOptions o, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(o);

        // handshake_protocols: "an array of protocols in the order of preference of the sender" - kept in the order given.
        var handshakes = new List<string>();
        foreach (var h in o.HandshakeProtocols)
        {
            var uri = h?.Trim().TrimEnd('/') ?? "";
            // A bare "didexchange/1.1" (as some backchannel callers write it) means the community protocol.
            if (!uri.Contains(':') && MessageType.TryParse(DocUris.DidCommOrg + uri + "/x", out _)) uri = DocUris.DidCommOrg + uri;
            if (!MessageType.TryParse(uri + "/x", out _))
                throw new OutOfBandException($"handshake protocol '{OobJson.Excerpt(uri)}' is not a protocol URI such as https://didcomm.org/didexchange/1.1");
            handshakes.Add(uri);
        }

        // requests~attach: "an attachment decorator containing an array of request messages in order of preference".
        var attachments = new JsonArray();
        for (int i = 0; i < o.Attachments.Count; i++)
        {
            AgentMessage request;
            try { request = AgentMessage.FromJson(o.Attachments[i]); }
            catch (MessageFormatException e) { throw new OutOfBandException($"attachment {i} is not a DIDComm message: {e.Message}"); }
            attachments.Add(new JsonObject
            {
                ["@id"] = $"request-{i}",
                ["mime-type"] = "application/json",
                ["data"] = new JsonObject { ["json"] = request.Json.DeepClone() },
            });
        }

        // "One or both of handshake_protocols and requests~attach MUST be included in the message."
        if (handshakes.Count == 0 && attachments.Count == 0)
            throw new OutOfBandException("an out-of-band invitation needs handshake_protocols or requests~attach: RFC 0434 says one or both MUST be included");

        string recipientKey;
        JsonNode service;
        JsonArray? services = null;
        if (o.SameServicesAs is { } earlierId)
        {
            if (o.UsePublicDid || o.MediatorConnectionId != null || o.RecipientKey != null)
                throw new OutOfBandException("SameServicesAs names the services of an earlier invitation: it does not combine with UsePublicDid, MediatorConnectionId or RecipientKey");
            var earlier = _agent.Store.GetInvitation(earlierId);
            if (earlier is not { Kind: "out-of-band" } || earlier.Invitation["services"] is not JsonArray { Count: > 0 } earlierServices)
                throw new OutOfBandException($"SameServicesAs: '{OobJson.Excerpt(earlierId)}' is not an out-of-band invitation this agent created");
            // The same services, verbatim: the same inline block (key, endpoint, routing keys) or the same DID.
            recipientKey = earlier.RecipientKey;
            services = (JsonArray)earlierServices.DeepClone();
            service = services[0]!;
        }
        else if (o.UsePublicDid)
        {
            var pd = _agent.PublicDid ?? throw new OutOfBandException(
                "UsePublicDid: this agent has no public DID (agent.PublicDid is null); create one first");
            if (o.MediatorConnectionId != null)
                throw new OutOfBandException("MediatorConnectionId does not apply to a public-DID invitation: its routing is whatever the DID document says");
            if (o.RecipientKey != null && NormalizeKey(o.RecipientKey) != pd.Verkey)
                throw new OutOfBandException("RecipientKey does not apply to a public-DID invitation: the key is the public DID's");
            recipientKey = pd.Verkey;
            service = pd.Did;
        }
        else
        {
            if (o.RecipientKey is { } given)
            {
                // Reusing an earlier invitation's key lets a receiver that connected through that invitation recognise us
                // (Credo: "reuse needs the same invitation key").
                recipientKey = NormalizeKey(given);
                if (!_agent.Wallet.Holds(recipientKey))
                    throw new OutOfBandException($"RecipientKey {OobJson.Excerpt(given)} is not a key this agent holds");
            }
            else recipientKey = _agent.Wallet.CreateKey().Verkey;

            var (endpoint, routingKeys) = await RoutingAsync(o.MediatorConnectionId, recipientKey, ct);
            // "The recipientKeys and routingKeys within the inline block decorator MUST be did:key references."
            service = new JsonObject
            {
                ["id"] = "#inline",
                ["type"] = "did-communication",
                ["recipientKeys"] = new JsonArray(o.DidKeyRecipientKeys ? DidKey.FromVerkey(recipientKey) : recipientKey),
                ["routingKeys"] = new JsonArray(routingKeys.Select(k => (JsonNode)(o.DidKeyRecipientKeys ? k : Rfc0094.ToVerkey(k))).ToArray()),
                ["serviceEndpoint"] = endpoint,
            };
        }

        var id = _agent.NewId();
        var invitation = new JsonObject
        {
            ["@type"] = InvitationType,
            ["@id"] = id,
            ["label"] = o.Label ?? _agent.Options.Label,
        };
        if (o.GoalCode != null) invitation["goal_code"] = o.GoalCode;
        if (o.Goal != null) invitation["goal"] = o.Goal;
        if (o.Accept.Count > 0) invitation["accept"] = new JsonArray(o.Accept.Select(a => (JsonNode)a).ToArray());
        if (handshakes.Count > 0) invitation["handshake_protocols"] = new JsonArray(handshakes.Select(h => (JsonNode)h).ToArray());
        if (attachments.Count > 0) invitation[OobInvitation.RequestsAttach] = attachments;
        invitation["services"] = services ?? new JsonArray(service);

        var record = new InvitationRecord
        {
            Id = id,
            Kind = "out-of-band",
            Invitation = invitation,
            RecipientKey = recipientKey,
            MultiUse = o.MultiUse,
            ExpiresAt = o.ExpiresAt,
            AutoAccept = o.AutoAccept,
            HandshakeProtocols = handshakes,
            CreatedAt = _agent.Clock.Now(),
        };
        _agent.Store.Save(record);
        return record;
    }

    private static string NormalizeKey(string key)
    {
        try { return Rfc0094.ToVerkey(key); }
        catch (EnvelopeException e) { throw new OutOfBandException($"RecipientKey: {e.Message}"); }
    }

    /// <summary>
    /// The endpoint and routing keys (as did:key) to advertise: this agent's own endpoint, or - through a mediator -
    /// the mediator's endpoint and routing keys, after registering <paramref name="verkey"/> with it (RFC 0211
    /// keylist-update) so that forwards to the key are accepted.
    /// </summary>
    private async Task<(string Endpoint, List<string> RoutingKeys)> RoutingAsync(string? mediatorConnectionId, string verkey, CancellationToken ct)
    {
        if (mediatorConnectionId == null) return (_agent.Endpoint ?? "didcomm:transport/queue", []);
        ServiceRecord routing;
        try
        {
            routing = _agent.Mediation.RoutingFor(mediatorConnectionId)
                      ?? throw new OutOfBandException($"connection {mediatorConnectionId} is not a granted mediation: request mediation (RFC 0211) first");
            await _agent.Mediation.RegisterKeyAsync(mediatorConnectionId, verkey, ct);
        }
        catch (NotImplementedException)
        {
            throw new OutOfBandException("routing an invitation through a mediator needs the mediation protocol (RFC 0211), which this build does not implement yet");
        }
        var keys = new List<string>();
        foreach (var k in routing.RoutingKeys)
        {
            try { keys.Add(k.StartsWith("did:", StringComparison.Ordinal) && !DidKey.IsDidKey(k) ? DidKey.FromVerkey(await _agent.Resolver.ResolveVerkeyAsync(k, ct)) : Rfc0094.ToDidKey(k)); }
            catch (Exception e) when (e is EnvelopeException or DidException)
            {
                throw new OutOfBandException($"mediator routing key {OobJson.Excerpt(k)} is unusable: {e.Message}");
            }
        }
        return (routing.Endpoint, keys);
    }

    // ------------------------------------------------------------------ handshake-reuse, sender side

    /// <summary>
    /// §Reuse Messages: "When the inviter receives the handshake-reuse message, they MUST respond with a
    /// handshake-reuse-accepted message". "Sending or receiving this message does not change the state of the
    /// existing connection." The invitation is marked answered by that connection (one use; multi-use stays open).
    /// </summary>
    private async Task OnHandshakeReuseAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        var family = FamilyOf(m.Type);
        var pthid = m.ParentThreadId;

        // "both the handshake-reuse and handshake-reuse-accepted messages MUST be encrypted and transmitted as normal
        // DIDComm messages": on a connection, authcrypted with its keys.
        if (inbound.Connection is not { } connection)
            throw new ProblemReportException(family, "no_existing_connection",
                "handshake-reuse must arrive on an existing connection (authcrypted with its keys); no connection matches the envelope", m.ThreadId, pthid);
        if (!connection.IsActive)
            throw new ProblemReportException(family, "existing_connection_not_active",
                $"handshake-reuse arrived on connection {connection.Id}, which is '{connection.State}', not established", m.ThreadId, pthid, connection);

        var (record, failure) = TryClaim(pthid, null);
        if (failure != ClaimFailure.None)
        {
            var (code, explain) = ReuseFailure(failure, pthid, record);
            throw new ProblemReportException(family, code, explain, m.ThreadId, pthid, connection);
        }
        NoteAnsweredBy(record!, connection);

        // handshake-reuse-accepted: ~thread {thid: "The Message @id of the reuse message", pthid: "The @id of the Out-of-Band invitation"}
        var accepted = _agent.NewMessage(m.Type.DocUri + family + "/" + ReuseAcceptedName).WithThread(m.ThreadId, pthid);
        await _agent.Outbound.SendAsync(accepted, connection, ct);
        _agent.Emit(new AgentEvent(AgentEvent.ReuseAccepted, connection.Id, m.ThreadId, m.Json));
    }
}
