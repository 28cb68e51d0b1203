// RFC 0160 §0 "Invitation to Connect".
//
// "The necessary data that an invitation to connect must result in is: suggested label, publicly resolvable DID
//  OR suggested label, recipientKeys, serviceEndpoint, routingKeys (optional)." Three forms:
//   {label, did}                                              "Invitation Message with Public Invitation DID"
//   {label, recipientKeys, serviceEndpoint: URL, routingKeys}  "Invitation Message with Keys and URL endpoint"
//   {label, recipientKeys, serviceEndpoint: DID, routingKeys}  "Invitation Message with Keys and DID Service Endpoint Reference"
// "recipientKeys and routingKeys must be inline keys, not DID key references when contained in an invitation. As in
//  the DID document with Ed25519VerificationKey2018 key types, the key must be base58 encoded." We write base58;
//  on receipt we also take did:key (RFC 0360), which later agents put there, but not DID URL references.
// "Agency Endpoint": "If the endpoint is not a URI but a DID itself, that DID refers to an Agency. In that case, the
//  serviceEndpoint of the DID must be a URI, and the recipientKeys must contain a single key. That key is appended
//  to the end of the list of routingKeys for processing."
// "Implicit Invitation": "Any Public DID serves as an implicit invitation" (ConnectToPublicDidAsync).
// "Standard Invitation Encoding": https://<domain>/<path>?c_i=<b64url(invitation)>; "the base64url decode
//  implementation used MUST correctly decode padded and unpadded base64URL encoded data" (InvitationUrl.Decode does).
// "There are no errors in this protocol during the invitation phase": a bad invitation is a local error
// (InvitationException), nothing is sent.
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.OutOfBand;
using Conformance.Wire.Dids;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Invitations;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Connections;

public sealed partial class ConnectionsProtocol
{
    // ------------------------------------------------------------------ inviter: create

    public async Task<(InvitationRecord Record, JsonObject Invitation, string Url)> CreateInvitationAsync(ConnectionsInvitationOptions o, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(o);
        var docUri = o.LegacyPrefix ? DocUris.LegacySov : DocUris.DidCommOrg;
        var invitation = new JsonObject
        {
            ["@type"] = docUri + Family + "/invitation",
            ["@id"] = _agent.NewId(),
            ["label"] = o.Label ?? _agent.Options.Label,
        };
        var routingKeys = o.RoutingKeys.Select(InlineKey).ToList();
        string key;
        string kind = "connections";
        var multiUse = o.MultiUse;
        string? mediator = null;

        switch (o.Form)
        {
            case ConnectionsInvitationForm.PublicDid:
            {
                var pd = _agent.PublicDid ?? throw new InvalidOperationException("a public-DID invitation needs this agent's public DID (ReferenceAgent.PublicDid)");
                if (!_agent.Wallet.Holds(pd.Verkey)) throw new InvalidOperationException($"the key {pd.Verkey} of the public DID is not in this agent's wallet");
                invitation["did"] = pd.Did;
                key = pd.Verkey;
                kind = "public-did";
                multiUse = true;   // a public DID is an invitation to anyone who resolves it ("Implicit Invitation")
                break;
            }
            case ConnectionsInvitationForm.DidServiceEndpoint:
            {
                var pd = _agent.PublicDid ?? throw new InvalidOperationException("an invitation with a DID service endpoint reference needs this agent's public DID (ReferenceAgent.PublicDid)");
                var service = DidDocument.FromJson(pd.Document).DidCommServices().FirstOrDefault(s => !s.IsV2)
                              ?? throw new InvalidOperationException("the public DID document has no DIDComm v1 service to reference");
                key = _agent.Wallet.CreateKey().Verkey;
                invitation["recipientKeys"] = Array([key]);
                invitation["serviceEndpoint"] = service.Id.Length > 0 ? service.Id : pd.Did;
                invitation["routingKeys"] = Array(routingKeys);
                break;
            }
            default:
            {
                key = _agent.Wallet.CreateKey().Verkey;
                string endpoint;
                if (o.MediatorConnectionId is { } med)
                {
                    var routed = _agent.Mediation.RoutingFor(med) ?? throw new InvalidOperationException($"mediation on connection {med} is not granted");
                    await _agent.Mediation.RegisterKeyAsync(med, key, ct);
                    endpoint = routed.Endpoint;
                    // The mediator's keys come last: "the last key in the list being the one for which the
                    // serviceEndpoint possesses the private key" (§1 Request Transmission).
                    routingKeys.AddRange(routed.RoutingKeys.Select(InlineKey));
                    mediator = med;
                }
                else
                {
                    endpoint = _agent.Endpoint ?? throw new InvalidOperationException("this agent advertises no endpoint; an inline-keys invitation needs one (or a mediator)");
                }
                invitation["recipientKeys"] = Array([key]);
                invitation["serviceEndpoint"] = endpoint;
                invitation["routingKeys"] = Array(routingKeys);
                break;
            }
        }

        var now = _agent.Clock.Now();
        var id = invitation["@id"]!.GetValue<string>();
        var record = new InvitationRecord
        {
            Id = id,
            Kind = kind,
            Invitation = (JsonObject)invitation.DeepClone(),
            RecipientKey = key,
            MultiUse = multiUse,
            ExpiresAt = o.ExpiresAt,
            AutoAccept = o.AutoAccept,
            HandshakeProtocols = [docUri + Family],
            CreatedAt = now,
        };
        if (!multiUse)
        {
            // §0 Invitation Publishing: "After publishing, we have entered the invited state." A single-use invitation
            // has its record from the start (AATH reads its connection_id from create-invitation).
            var c = new ConnectionRecord
            {
                Id = _agent.NewId(),
                Protocol = Family,
                Role = ConnectionRole.Inviter,
                AutoAccept = o.AutoAccept ?? _agent.Options.AutoAccept,
                InvitationId = id,
                InvitationKey = key,
                Invitation = (JsonObject)invitation.DeepClone(),
                MediatorConnectionId = mediator,
                CreatedAt = now,
            };
            _local[c.Id] = new LocalState(docUri, null);
            _agent.Transition(c, States.Invited);
            record.ConnectionId = c.Id;
        }
        _agent.Store.Save(record);

        var baseUrl = _agent.Options.Endpoints.FirstOrDefault(e => e.StartsWith("http", StringComparison.OrdinalIgnoreCase)) ?? "https://example.invalid/";
        // Padded, as RFC 0160's own example URL and ACA-Py; receivers MUST take both.
        var url = InvitationUrl.Encode(invitation, baseUrl, InvitationParameter.ConnectionInvitation, padded: true);
        return (record, invitation, url);
    }

    /// <summary>A key as an invitation must carry it: base58 ("must be inline keys ... base58 encoded").</summary>
    private static string InlineKey(string key)
    {
        try { return Rfc0094.ToVerkey(key); }
        catch (EnvelopeException e) { throw new InvalidOperationException("routing key: " + e.Message); }
    }

    // ------------------------------------------------------------------ invitee: receive

    /// <summary>Receives a connections/1.0 invitation (state invited); sends the request at once when auto-accepting.</summary>
    public async Task<ConnectionRecord> ReceiveInvitationAsync(JsonObject invitation, bool? autoAccept = null, string? label = null, string? mediatorConnectionId = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(invitation);
        var (id, theirLabel, docUri, service) = await ParseInvitationAsync(invitation, ct);
        var c = new ConnectionRecord
        {
            Id = _agent.NewId(),
            Protocol = Family,
            Role = ConnectionRole.Invitee,
            AutoAccept = autoAccept ?? _agent.Options.AutoAccept,
            InvitationId = id,
            InvitationKey = service.RecipientKeys[0],
            Invitation = (JsonObject)invitation.DeepClone(),
            TheirLabel = theirLabel,
            TheirService = service,
            MediatorConnectionId = mediatorConnectionId,
            CreatedAt = _agent.Clock.Now(),
        };
        _local[c.Id] = new LocalState(docUri, label);
        _agent.Transition(c, States.Invited);
        return c.AutoAccept ? await AcceptInvitationAsync(c.Id, ct) : c;
    }

    /// <summary>Receives an invitation URL (<c>c_i</c>, or the legacy <c>d_m</c>; padded or unpadded) or raw invitation JSON.</summary>
    public Task<ConnectionRecord> ReceiveInvitationUrlAsync(string url, bool? autoAccept = null, string? label = null, string? mediatorConnectionId = null, CancellationToken ct = default)
    {
        var decoded = InvitationUrl.Decode(url);
        if (decoded.Parameter == InvitationParameter.OutOfBand)
            throw new InvitationException("this is an out-of-band (oob) invitation URL, not a connections/1.0 (c_i) one");
        return ReceiveInvitationAsync(decoded.Message, autoAccept, label, mediatorConnectionId, ct);
    }

    /// <summary>§0 "Implicit Invitation": "If an invitee wishes to connect to any Public DID, They designate their own label and skip to the end of the Invitation Processing step."</summary>
    public Task<ConnectionRecord> ConnectToPublicDidAsync(string publicDid, string? label = null, bool? autoAccept = null, CancellationToken ct = default)
    {
        var implicitInvitation = new JsonObject
        {
            ["@type"] = DocUris.DidCommOrg + Family + "/invitation",
            ["did"] = publicDid,
        };
        return ReceiveInvitationAsync(implicitInvitation, autoAccept, label, null, ct);
    }

    /// <summary>OOB invitation whose chosen handshake is connections/1.0: request with pthid = invitation @id.</summary>
    public async Task<ConnectionRecord> StartFromOobAsync(JsonObject oobInvitation, OobReceiveOptions o, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(oobInvitation);
        ArgumentNullException.ThrowIfNull(o);
        var id = Str(oobInvitation["@id"]) ?? throw new InvitationException("the out-of-band invitation has no @id (it becomes the request's ~thread.pthid)");
        if (oobInvitation["services"] is not JsonArray services || services.Count == 0)
            throw new InvitationException("the out-of-band invitation has no services");
        ServiceRecord? service = null;
        var problems = new List<string>();
        foreach (var s in services)
        {
            try
            {
                service = s switch
                {
                    JsonObject block => await InlineServiceAsync(block, ct),
                    _ when Str(s) is { } did => await PublicDidServiceAsync(did, ct),
                    _ => throw new ServiceException("a service must be a DID or a service block"),
                };
                break;
            }
            catch (ServiceException e) { problems.Add(e.Message); }
        }
        if (service == null) throw new InvitationException("no usable service in the out-of-band invitation: " + string.Join("; ", problems));

        var c = new ConnectionRecord
        {
            Id = _agent.NewId(),
            Protocol = Family,
            Role = ConnectionRole.Invitee,
            AutoAccept = o.AutoAccept ?? _agent.Options.AutoAccept,
            InvitationId = id,
            InvitationKey = service.RecipientKeys[0],
            Invitation = (JsonObject)oobInvitation.DeepClone(),
            ParentThreadId = id,
            TheirLabel = Str(oobInvitation["label"]),
            TheirService = service,
            MediatorConnectionId = o.MediatorConnectionId,
            CreatedAt = _agent.Clock.Now(),
        };
        _local[c.Id] = new LocalState(DocUriOfInvitation(oobInvitation), o.Label);
        _agent.Transition(c, States.Invited);
        return c.AutoAccept ? await AcceptInvitationAsync(c.Id, ct) : c;
    }

    private async Task<(string? Id, string? Label, string DocUri, ServiceRecord Service)> ParseInvitationAsync(JsonObject inv, CancellationToken ct)
    {
        var typeText = Str(inv["@type"]) ?? throw new InvitationException("the invitation has no @type");
        if (!MessageType.TryParse(typeText, out var type) || !type.Matches(ProtocolName, 1, "invitation"))
            throw new InvitationException($"@type '{typeText}' is not a connections/1.0 invitation");
        // RFC 0160's third example has no @id ("Should invitations have @ids?" is an unresolved question): tolerate it.
        var id = inv["@id"] is null ? null : Str(inv["@id"]) ?? throw new InvitationException("the invitation @id must be a string");
        var label = inv["label"] is null ? null : Str(inv["label"]) ?? throw new InvitationException("the invitation label must be a string");

        var did = inv["did"] is null ? null : Str(inv["did"]) ?? throw new InvitationException("the invitation 'did' must be a string");
        var hasKeys = inv.ContainsKey("recipientKeys");
        if (did != null && hasKeys)
            throw new InvitationException("an invitation carries either a public DID or recipientKeys + serviceEndpoint, not both (RFC 0160 §0)");
        try
        {
            if (did != null) return (id, label, type.DocUri, await PublicDidServiceAsync(did, ct));
            if (!hasKeys) throw new InvitationException("the invitation has neither a 'did' nor 'recipientKeys' (RFC 0160 §0)");
            var recipients = InvitationKeys(inv, "recipientKeys", required: true);
            var routing = InvitationKeys(inv, "routingKeys", required: false);
            var endpoint = Str(inv["serviceEndpoint"]) is { Length: > 0 } e ? e : throw new InvitationException("the invitation has no serviceEndpoint string");
            return (id, label, type.DocUri, await ServiceAsync(recipients, routing, endpoint, null, ct));
        }
        catch (ServiceException e) { throw new InvitationException("invitation: " + e.Message); }
    }

    /// <summary>
    /// recipientKeys / routingKeys of an invitation: base58 as the RFC says ("must be inline keys, not DID key
    /// references"), or did:key (RFC 0360) as later agents write them; both come back as base58.
    /// </summary>
    private static List<string> InvitationKeys(JsonObject inv, string name, bool required)
    {
        if (inv[name] is null)
            return required ? throw new InvitationException($"the invitation has no {name}") : [];
        if (inv[name] is not JsonArray arr) throw new InvitationException($"{name} must be an array of base58 keys");
        var keys = new List<string>();
        foreach (var item in arr)
        {
            var k = Str(item) ?? throw new InvitationException($"{name} must contain strings");
            if (k.StartsWith("did:", StringComparison.Ordinal) && !DidKey.IsDidKey(k))
                throw new InvitationException($"{name} entry '{DidException.Abbrev(k)}' is a DID key reference; RFC 0160 §0: keys in an invitation \"must be inline keys, not DID key references\"");
            try { keys.Add(Rfc0094.ToVerkey(k)); }
            catch (EnvelopeException e) { throw new InvitationException($"{name}: {e.Message}"); }
        }
        if (required && keys.Count == 0) throw new InvitationException($"{name} is empty");
        return keys;
    }

    // ------------------------------------------------------------------ services (invitations, OOB, DID documents)

    /// <summary>A service could not be used (unknown endpoint protocol, unresolvable agency DID, bad key).</summary>
    private sealed class ServiceException(string message) : Exception(message);

    /// <summary>The first DIDComm v1 service of a public DID (RFC 0160 §0 "publicly resolvable DID").</summary>
    private async Task<ServiceRecord> PublicDidServiceAsync(string did, CancellationToken ct)
    {
        DidDocument doc;
        try { doc = await _agent.Resolver.ResolveAsync(did, ct); }
        catch (DidException e) { throw new ServiceException($"the public DID {DidException.Abbrev(did)} could not be resolved: {e.Message}"); }
        return await FirstUsableServiceAsync(doc, $"the DID document of {DidException.Abbrev(did)}", ct);
    }

    private async Task<ServiceRecord> FirstUsableServiceAsync(DidDocument doc, string what, CancellationToken ct)
    {
        IReadOnlyList<DidCommService> services;
        try { services = doc.DidCommServices(); }
        catch (DidException e) { throw new ServiceException($"{what} is invalid: {e.Message}"); }
        var v1 = services.Where(s => !s.IsV2).ToList();
        if (v1.Count == 0)
            throw new ServiceException(services.Count > 0
                ? $"{what} has only DIDComm v2 services; connections/1.0 needs an IndyAgent or did-communication service"
                : $"{what} has no DIDComm service (IndyAgent or did-communication)");
        var problems = new List<string>();
        foreach (var s in v1)
        {
            try { return await ServiceAsync(s.RecipientKeys, s.RoutingKeys, s.Endpoint, doc, ct); }
            catch (ServiceException e) { problems.Add(e.Message); }
        }
        throw new ServiceException($"{what} has no usable service: {string.Join("; ", problems)}");
    }

    /// <summary>An RFC 0434 inline service block (recipientKeys as did:key or base58; serviceEndpoint a URI, a DID, or a v2-style object with uri).</summary>
    private async Task<ServiceRecord> InlineServiceAsync(JsonObject block, CancellationToken ct)
    {
        List<string> Keys(string name) => block[name] is JsonArray a
            ? a.Select(k => Str(k) ?? throw new ServiceException($"service {name} must contain strings")).ToList()
            : block[name] is null ? [] : throw new ServiceException($"service {name} must be an array");
        var recipients = Keys("recipientKeys");
        if (recipients.Count == 0) throw new ServiceException("the service block has no recipientKeys");
        var endpoint = block["serviceEndpoint"] switch
        {
            JsonObject o => Str(o["uri"]),
            var n => Str(n),
        } ?? throw new ServiceException("the service block has no serviceEndpoint");
        return await ServiceAsync(recipients, Keys("routingKeys"), endpoint, null, ct);
    }

    /// <summary>
    /// Builds the <see cref="ServiceRecord"/> messages are sent to. Recipient keys become base58 verkeys; routing keys
    /// stay did:key or base58 as given (DID URL references are resolved); a DID endpoint is an agency (§0 "Agency Endpoint").
    /// </summary>
    private async Task<ServiceRecord> ServiceAsync(IReadOnlyList<string> recipientKeys, IReadOnlyList<string> routingKeys, string endpoint, DidDocument? within, CancellationToken ct)
    {
        var recipients = new List<string>();
        foreach (var k in recipientKeys) recipients.Add(await VerkeyAsync(k, within, "recipient key", ct));
        var routing = new List<string>();
        foreach (var k in routingKeys)
            routing.Add(DidKey.IsDidKey(k) || !k.StartsWith("did:", StringComparison.Ordinal) && !k.StartsWith('#')
                ? ValidRoutingKey(k)
                : await VerkeyAsync(k, within, "routing key", ct));

        if (endpoint.StartsWith("did:", StringComparison.Ordinal))
        {
            // §0 Agency Endpoint: "that DID refers to an Agency. In that case, the serviceEndpoint of the DID must be a
            // URI, and the recipientKeys must contain a single key. That key is appended to the end of the list of
            // routingKeys for processing."
            var agency = await AgencyAsync(endpoint, ct);
            routing.Add(agency.RecipientKeys[0]);
            routing.AddRange(agency.RoutingKeys);
            endpoint = agency.Endpoint;
        }
        else if (!IsSupportedEndpoint(endpoint))
        {
            throw new ServiceException($"unknown endpoint protocol in '{DidException.Abbrev(endpoint)}' (http, https, ws, wss or didcomm:transport/queue)");
        }
        return new ServiceRecord { RecipientKeys = recipients, RoutingKeys = routing, Endpoint = endpoint };
    }

    private static bool IsSupportedEndpoint(string endpoint) =>
        Uri.TryCreate(endpoint, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" or "ws" or "wss"
        || endpoint == "didcomm:transport/queue";   // RFC 0092 convention of agents without an endpoint (return route)

    private static string ValidRoutingKey(string key)
    {
        try { Rfc0094.ToVerkey(key); return key; }
        catch (EnvelopeException e) { throw new ServiceException("routing key: " + e.Message); }
    }

    private async Task<string> VerkeyAsync(string key, DidDocument? within, string what, CancellationToken ct)
    {
        try
        {
            if (within != null && (key.StartsWith('#') || key.StartsWith("did:", StringComparison.Ordinal) && !DidKey.IsDidKey(key)
                                   && within.IsNamed(DidResolver.DidOf(key))))
                return (within.FindMethod(key) ?? throw new ServiceException($"{what} {DidException.Abbrev(key)} is not a key of the DID document")).Verkey;
            if (key.StartsWith("did:", StringComparison.Ordinal) && !DidKey.IsDidKey(key))
                return await _agent.Resolver.ResolveVerkeyAsync(key, ct);
            return Rfc0094.ToVerkey(key);
        }
        catch (DidException e) { throw new ServiceException($"{what}: {e.Message}"); }
        catch (EnvelopeException e) { throw new ServiceException($"{what}: {e.Message}"); }
    }

    /// <summary>Resolves an agency DID service reference (<c>did:…#service</c>, or the legacy <c>did:sov:X;routeid</c>).</summary>
    private async Task<ServiceRecord> AgencyAsync(string reference, CancellationToken ct)
    {
        var cut = reference.IndexOfAny(['#', ';', '?', '/']);
        var did = cut < 0 ? reference : reference[..cut];
        DidDocument doc;
        try { doc = await _agent.Resolver.ResolveAsync(did, ct); }
        catch (DidException e) { throw new ServiceException($"the agency DID {DidException.Abbrev(did)} could not be resolved: {e.Message}"); }
        IReadOnlyList<DidCommService> services;
        try { services = doc.DidCommServices(); }
        catch (DidException e) { throw new ServiceException($"the agency DID document is invalid: {e.Message}"); }
        var v1 = services.Where(s => !s.IsV2).ToList();
        var chosen = v1.FirstOrDefault(s => s.Id == reference) ?? (cut < 0 ? v1.FirstOrDefault() : null)
                     ?? throw new ServiceException($"the agency DID document has no DIDComm v1 service {DidException.Abbrev(reference)}");
        if (chosen.Endpoint.StartsWith("did:", StringComparison.Ordinal) || !IsSupportedEndpoint(chosen.Endpoint))
            throw new ServiceException($"the agency service endpoint must be a URI (RFC 0160 §0 Agency Endpoint), got '{DidException.Abbrev(chosen.Endpoint)}'");
        if (chosen.RecipientKeys.Count != 1)
            throw new ServiceException($"the agency service must have a single recipient key (RFC 0160 §0 Agency Endpoint), it has {chosen.RecipientKeys.Count}");
        var routing = new List<string>();
        foreach (var k in chosen.RoutingKeys)
            routing.Add(DidKey.IsDidKey(k) || !k.StartsWith("did:", StringComparison.Ordinal) && !k.StartsWith('#')
                ? ValidRoutingKey(k) : await VerkeyAsync(k, doc, "agency routing key", ct));
        return new ServiceRecord { RecipientKeys = [chosen.RecipientKeys[0]], RoutingKeys = routing, Endpoint = chosen.Endpoint };
    }
}
