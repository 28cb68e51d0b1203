// Aries RFC 0434 out-of-band 1.1, §Messages "Invitation" and §"The services Item": reading a received invitation.
//
//   {"@type": "https://didcomm.org/out-of-band/1.1/invitation", "@id": "<id used for context as pthid>",
//    "label", "goal_code", "goal", "accept": [...], "handshake_protocols": [...], "requests~attach": [...],
//    "services": [ {inline did-communication block} | "did:..." ]}
//
// Strict where the RFC says MUST:
//   - "One or both of handshake_protocols and requests~attach MUST be included in the message."
//   - services: "an array of union types that the receiver uses when responding" (not marked optional): without a
//     usable service there is no way to answer, so an invitation without one is rejected.
//   - "The sender MUST put the array into their order of preference, and, as such, the receiver SHOULD prefer the
//     entries in order" -> Services keeps the order.
// Tolerant where real agents are sloppy (each tolerance is recorded in Deviations, so a report can show it):
//   - "service" instead of "services" (early 1.0 agents, RFC 0496's example); a handshake entry naming a message
//     type (".../connections/1.0/invitation", RFC 0496's example) is read as its protocol; one without a doc URI
//     ("didexchange/1.1") as the https://didcomm.org/ protocol.
//   - "The recipientKeys and routingKeys within the inline block ... MUST be did:key references": raw base58
//     verkeys (older ACA-Py) are read anyway.
//   - "Entries without a type are assumed to be did-communication"; entries of other types are skipped.
//   - out-of-band/1.0 invitations are read like 1.1; both @type prefixes are accepted.
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Dids;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Messages;

namespace Conformance.Agent.OutOfBand;

/// <summary>A received invitation could not be used: the message is one line and names the offending member.</summary>
public sealed class OutOfBandException(string message) : InvalidOperationException(message);

/// <summary>One entry of an invitation's <c>services</c>, as the receiver will use it.</summary>
/// <param name="Service">Recipient keys (base58), routing keys (did:key or base58), endpoint.</param>
/// <param name="Did">The DID the entry named (null for an inline block).</param>
/// <param name="InlineId">The inline block's <c>id</c> (e.g. <c>#inline</c>).</param>
public sealed record OobService(ServiceRecord Service, string? Did, string? InlineId);

/// <summary>
/// A structurally validated out-of-band invitation (<see cref="Parse"/>); DID entries of <c>services</c> are resolved
/// separately (<see cref="ResolveServicesAsync"/>) because that may need I/O.
/// </summary>
public sealed class OobInvitation
{
    public const string ProtocolName = "out-of-band";
    public const string RequestsAttach = "requests~attach";

    private OobInvitation(JsonObject json, MessageType type, string id)
    {
        Json = json;
        Type = type;
        Id = id;
    }

    /// <summary>The invitation as received (a copy).</summary>
    public JsonObject Json { get; }
    public MessageType Type { get; }
    /// <summary>The invitation's @id: the <c>~thread.pthid</c> of every response.</summary>
    public string Id { get; }
    public string? Label { get; private init; }
    public string? GoalCode { get; private init; }
    public string? Goal { get; private init; }
    public IReadOnlyList<string> Accept { get; private init; } = [];
    /// <summary>Handshake protocol URIs in the sender's order of preference.</summary>
    public IReadOnlyList<string> HandshakeProtocols { get; private init; } = [];
    /// <summary>The messages of <c>requests~attach</c>, in the sender's order of preference.</summary>
    public IReadOnlyList<AgentMessage> Requests { get; private init; } = [];
    /// <summary>The inline service blocks (already decoded) and DIDs of <c>services</c>, in order.</summary>
    public IReadOnlyList<OobService> InlineServices { get; private init; } = [];
    public IReadOnlyList<string> ServiceDids { get; private init; } = [];
    /// <summary>Every <c>services</c> entry in order: an inline block or a DID (to resolve).</summary>
    private IReadOnlyList<object> ServiceEntries { get; init; } = [];
    /// <summary>Where the invitation departs from the RFC in ways this reader tolerates (one line each).</summary>
    public IReadOnlyList<string> Deviations { get; private init; } = [];

    /// <summary>The verkeys of the inline blocks (what a later invitation with "the same key" shares).</summary>
    public IEnumerable<string> InlineRecipientKeys => InlineServices.SelectMany(s => s.Service.RecipientKeys);

    /// <summary>Validates the invitation's structure. Throws <see cref="OutOfBandException"/> with a one-line reason.</summary>
    public static OobInvitation Parse(JsonObject invitation)
    {
        ArgumentNullException.ThrowIfNull(invitation);
        AgentMessage m;
        try { m = AgentMessage.FromJson(invitation); }
        catch (MessageFormatException e) { throw Invalid(e.Message); }

        if (m.Type.Protocol == "connections" && m.Type.Name == "invitation")
            throw Invalid("this is an RFC 0160 connections/1.0 invitation; receive it with the connections protocol, not out-of-band");
        if (m.Type.Protocol != ProtocolName || m.Type.Major != 1 || m.Type.Name != "invitation")
            throw Invalid($"@type {m.Type} is not an out-of-band/1.x invitation");

        var deviations = new List<string>();
        var json = m.Json;

        string? OptionalString(string name)
        {
            var node = json[name];
            if (node is null) return null;
            if (OobJson.AsString(node) is { } s) return s;
            deviations.Add($"'{name}' should be a string, got {OobJson.Kind(node)}; ignored");
            return null;
        }

        // handshake_protocols - [optional] an array of protocols in the order of preference of the sender
        var handshakes = new List<string>();
        if (json["handshake_protocols"] is { } hp)
        {
            if (hp is not JsonArray arr) throw Invalid($"handshake_protocols must be an array of protocol URIs, got {OobJson.Kind(hp)}");
            foreach (var item in arr)
            {
                var uri = (OobJson.AsString(item) ?? throw Invalid($"handshake_protocols must contain strings, found {OobJson.Kind(item)}")).Trim().TrimEnd('/');
                if (MessageType.TryParse(uri + "/x", out _)) handshakes.Add(uri);
                else if (!uri.Contains(':') && MessageType.TryParse(DocUris.DidCommOrg + uri + "/x", out _))
                {
                    deviations.Add($"handshake protocol '{OobJson.Excerpt(uri)}' has no doc URI; read as {DocUris.DidCommOrg}{uri}");
                    handshakes.Add(DocUris.DidCommOrg + uri);
                }
                else if (MessageType.TryParse(uri, out var messageType))
                {
                    // RFC 0496's own example lists ".../connections/1.0/invitation": a message type, not a protocol.
                    deviations.Add($"handshake protocol '{OobJson.Excerpt(uri)}' names a message type; read as {messageType.ProtocolUri}");
                    handshakes.Add(messageType.ProtocolUri);
                }
                else deviations.Add($"handshake protocol '{OobJson.Excerpt(uri)}' is not a protocol URI (<doc-uri><name>/<major>.<minor>); ignored");
            }
        }

        // requests~attach - [optional] an attachment decorator containing an array of request messages in order of preference
        var requests = new List<AgentMessage>();
        IReadOnlyList<Attachment> attachments;
        try { attachments = m.Attachments(RequestsAttach); }
        catch (MessageFormatException e) { throw Invalid(e.Message); }
        for (int i = 0; i < attachments.Count; i++)
        {
            var a = attachments[i];
            var name = a.Id is null ? $"requests~attach[{i}]" : $"requests~attach '{OobJson.Excerpt(a.Id, 40)}'";
            if (a.Json is null && a.Base64 is null)
                throw Invalid($"{name} carries no data.json or data.base64 (links are not fetched)");
            JsonNode content;
            try { content = a.JsonContent(); }
            catch (MessageFormatException e) { throw Invalid($"{name}: {e.Message}"); }
            if (content is not JsonObject o) throw Invalid($"{name} must hold a DIDComm message (a JSON object), got {OobJson.Kind(content)}");
            try { requests.Add(AgentMessage.FromJson(o)); }
            catch (MessageFormatException e) { throw Invalid($"{name} is not a DIDComm message: {e.Message}"); }
        }

        // "One or both of handshake_protocols and requests~attach MUST be included in the message."
        if (handshakes.Count == 0 && requests.Count == 0)
            throw Invalid("One or both of handshake_protocols and requests~attach MUST be included (RFC 0434); this invitation has " +
                          (json.ContainsKey("handshake_protocols") || json.ContainsKey(RequestsAttach) ? "only empty or unusable ones" : "neither"));

        // services - an array of union types that the receiver uses when responding to the message
        var servicesNode = json["services"];
        if (servicesNode is null && json["service"] is { } singular)
        {
            // Early out-of-band 1.0 drafts and agents (and RFC 0496's example) call it "service".
            deviations.Add("the member is named 'service'; RFC 0434 names it 'services'; read anyway");
            servicesNode = singular;
        }
        if (servicesNode is null) throw Invalid("services is missing: the receiver has no way to respond");
        if (servicesNode is not JsonArray services) throw Invalid($"services must be an array, got {OobJson.Kind(servicesNode)}");
        var entries = new List<object>();
        var inline = new List<OobService>();
        var dids = new List<string>();
        for (int i = 0; i < services.Count; i++)
        {
            var item = services[i];
            if (OobJson.AsString(item) is { } did)
            {
                if (!did.StartsWith("did:", StringComparison.Ordinal)) throw Invalid($"services[{i}] '{OobJson.Excerpt(did)}' is neither a DID nor a service block");
                entries.Add(did);
                dids.Add(did);
                continue;
            }
            if (item is not JsonObject block) throw Invalid($"services[{i}] must be a DID or a service object, got {OobJson.Kind(item)}");
            // "Use only entries where the type is equal to did-communication. Entries without a type are assumed to be did-communication."
            var type = block["type"] is { } tn ? OobJson.AsString(tn) : "did-communication";
            if (type != "did-communication")
            {
                deviations.Add($"services[{i}] has type '{OobJson.Excerpt(type ?? OobJson.Kind(block["type"]))}', not did-communication; skipped");
                continue;
            }
            var svc = InlineBlock(block, i, deviations);
            entries.Add(svc);
            inline.Add(svc);
        }
        if (entries.Count == 0) throw Invalid("services has no did-communication entry: the receiver has no way to respond");

        var accept = new List<string>();
        if (json["accept"] is JsonArray acc)
            accept.AddRange(acc.Select(OobJson.AsString).OfType<string>());
        else if (json["accept"] is { } other)
            deviations.Add($"accept should be an array of media types, got {OobJson.Kind(other)}; ignored");

        if (m.Type.Minor == 0) deviations.Add("out-of-band/1.0 invitation (1.1 is current); read the same way");

        return new OobInvitation(json, m.Type, m.Id)
        {
            Label = OptionalString("label"),
            GoalCode = OptionalString("goal_code"),
            Goal = OptionalString("goal"),
            Accept = accept,
            HandshakeProtocols = handshakes,
            Requests = requests,
            InlineServices = inline,
            ServiceDids = dids,
            ServiceEntries = entries,
            Deviations = deviations,
        };
    }

    private static OobService InlineBlock(JsonObject block, int index, List<string> deviations)
    {
        var where = $"services[{index}]";
        var id = block["id"] is { } idn ? OobJson.AsString(idn) : null;

        // "The recipientKeys and routingKeys within the inline block decorator MUST be did:key references."
        if (block["recipientKeys"] is not JsonArray rk || rk.Count == 0)
            throw Invalid($"{where}.recipientKeys must be a non-empty array of did:key references");
        var recipients = new List<string>();
        foreach (var k in rk)
        {
            var key = OobJson.AsString(k) ?? throw Invalid($"{where}.recipientKeys must contain strings, found {OobJson.Kind(k)}");
            if (!DidKey.IsDidKey(key)) deviations.Add($"{where}.recipientKeys has a raw key '{OobJson.Excerpt(key, 20)}', not a did:key (RFC 0434 MUST); accepted");
            recipients.Add(Verkey(key, $"{where}.recipientKeys"));
        }

        var routing = new List<string>();
        if (block["routingKeys"] is { } rn)
        {
            if (rn is not JsonArray ra) throw Invalid($"{where}.routingKeys must be an array, got {OobJson.Kind(rn)}");
            foreach (var k in ra)
            {
                var key = OobJson.AsString(k) ?? throw Invalid($"{where}.routingKeys must contain strings, found {OobJson.Kind(k)}");
                if (!DidKey.IsDidKey(key)) deviations.Add($"{where}.routingKeys has a raw key '{OobJson.Excerpt(key, 20)}', not a did:key (RFC 0434 MUST); accepted");
                Verkey(key, $"{where}.routingKeys");   // validates; the key is kept as given (the forward's "to")
                routing.Add(key);
            }
        }

        string endpoint = block["serviceEndpoint"] switch
        {
            JsonValue v when OobJson.AsString(v) is { Length: > 0 } s => s,
            JsonObject o when OobJson.AsString(o["uri"]) is { Length: > 0 } u => u,   // DIDComm v2 shape, tolerated
            null => throw Invalid($"{where}.serviceEndpoint is missing"),
            var other => throw Invalid($"{where}.serviceEndpoint must be a URI, got {OobJson.Kind(other)}"),
        };
        return new OobService(new ServiceRecord { RecipientKeys = recipients, RoutingKeys = routing, Endpoint = endpoint }, null, id);
    }

    private static string Verkey(string key, string where)
    {
        try { return Rfc0094.ToVerkey(key); }
        catch (EnvelopeException e) { throw Invalid($"{where}: {e.Message}"); }
    }

    /// <summary>
    /// The services in the sender's order, DIDs resolved to their DIDComm v1 services. A DID that does not resolve is
    /// skipped (its reason kept in <paramref name="problems"/>); none usable at all is an <see cref="OutOfBandException"/>.
    /// "If the endpoint is itself a DID, the serviceEndpoint in the DIDDoc of the resolved DID MUST be a URI, and the
    /// recipientKeys MUST contain a single key. That key is appended to the end of the list of routingKeys."
    /// </summary>
    public async Task<IReadOnlyList<OobService>> ResolveServicesAsync(DidResolver resolver, CancellationToken ct = default, List<string>? problems = null)
    {
        var result = new List<OobService>();
        problems ??= [];
        foreach (var entry in ServiceEntries)
        {
            try
            {
                if (entry is OobService inline) result.Add(await WithEndpointDidResolved(inline, resolver, ct));
                else if (entry is string did)
                {
                    var doc = await resolver.ResolveAsync(did, ct);
                    // A DID URL (did:x:y#service) names one service; a bare DID offers all its DIDComm v1 services.
                    var services = doc.DidCommServices().Where(s => !s.IsV2 && (!did.Contains('#') || s.Id == did)).ToList();
                    if (services.Count == 0) { problems.Add($"{DidException.Abbrev(did)} has no DIDComm v1 service"); continue; }
                    foreach (var s in services)
                    {
                        var routing = new List<string>();
                        foreach (var r in s.RoutingKeys) routing.Add(await RoutingKey(r, doc.Id, resolver, ct));
                        var rec = new ServiceRecord { RecipientKeys = [.. s.RecipientKeys], RoutingKeys = routing, Endpoint = s.Endpoint };
                        result.Add(await WithEndpointDidResolved(new OobService(rec, DidResolver.DidOf(did), null), resolver, ct));
                    }
                }
            }
            catch (Exception e) when (e is DidException or EnvelopeException or OutOfBandException)
            {
                problems.Add(e.Message);
            }
        }
        if (result.Count == 0)
            throw Invalid("none of the invitation's services can be used: " + string.Join("; ", problems));
        return result;
    }

    private static async Task<OobService> WithEndpointDidResolved(OobService s, DidResolver resolver, CancellationToken ct)
    {
        var endpoint = s.Service.Endpoint;
        if (!endpoint.StartsWith("did:", StringComparison.Ordinal)) return s;
        var doc = await resolver.ResolveAsync(endpoint, ct);
        var mediator = doc.DidCommServices().FirstOrDefault(x => !x.IsV2)
                       ?? throw new DidException($"endpoint DID {DidException.Abbrev(endpoint)} has no DIDComm v1 service");
        if (mediator.Endpoint.StartsWith("did:", StringComparison.Ordinal))
            throw new DidException($"endpoint DID {DidException.Abbrev(endpoint)}: its serviceEndpoint MUST be a URI, not another DID");
        if (mediator.RecipientKeys.Count != 1)
            throw new DidException($"endpoint DID {DidException.Abbrev(endpoint)}: its recipientKeys MUST contain a single key, found {mediator.RecipientKeys.Count}");
        var rec = new ServiceRecord
        {
            RecipientKeys = [.. s.Service.RecipientKeys],
            RoutingKeys = [.. s.Service.RoutingKeys, mediator.RecipientKeys[0]],
            Endpoint = mediator.Endpoint,
        };
        return s with { Service = rec };
    }

    private static async Task<string> RoutingKey(string key, string docId, DidResolver resolver, CancellationToken ct)
    {
        if (DidKey.IsDidKey(key)) return key;
        if (key.StartsWith('#')) key = docId + key;
        return key.StartsWith("did:", StringComparison.Ordinal) ? await resolver.ResolveVerkeyAsync(key, ct) : Rfc0094.ToVerkey(key);
    }

    internal static OutOfBandException Invalid(string why) => new("invalid out-of-band invitation: " + OobJson.OneLine(why));
}
