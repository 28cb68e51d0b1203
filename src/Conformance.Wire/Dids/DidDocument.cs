using System.Globalization;
using System.Text.Json.Nodes;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Dids;

/// <summary>
/// A DID document, read tolerantly from either shape agents put on the wire:
/// <list type="bullet">
/// <item>W3C DID Core documents (did:key, did:peer:0/1/2/4, DIDComm v2): <c>verificationMethod</c>, verification
/// relationships holding references (<c>"#key-1"</c>, <c>"did:…#key-1"</c>) or embedded methods, <c>service</c>;</item>
/// <item>the legacy DIDDoc of RFC 0160 §"DIDDoc Example" / RFC 0067 (<c>@context: https://w3id.org/did/v1</c>,
/// <c>publicKey[]</c> with <c>publicKeyBase58</c>, authentication entries
/// <c>{type: Ed25519SignatureAuthentication2018, publicKey: "did#1"}</c>, <c>IndyAgent</c> services, unqualified
/// or <c>did:sov:</c> ids).</item>
/// </list>
/// Keys the harness cannot use (RSA, secp256k1, P-256) are listed in <see cref="UnsupportedMethods"/> rather than
/// rejected; malformed Ed25519/X25519 keys, dangling internal references and non-object entries are
/// <see cref="DidException"/>s. A document without a root <c>id</c> (a did:peer:1 stored variant or a did:peer:4
/// input document) is accepted; its <see cref="Id"/> is then empty.
/// </summary>
public sealed class DidDocument
{
    /// <summary>The DID Core verification relationships, in the order DID Core lists them.</summary>
    public static readonly IReadOnlyList<string> RelationshipNames =
        ["authentication", "assertionMethod", "keyAgreement", "capabilityInvocation", "capabilityDelegation"];

    private readonly JsonObject _json;
    private readonly List<VerificationMethod> _methods = [];
    private readonly Dictionary<string, List<VerificationMethod>> _relationships = [];
    private readonly List<string> _unsupported = [];

    private DidDocument(JsonObject json)
    {
        _json = json;
        if (json.TryGetPropertyValue("id", out var idNode) && idNode is not null && JsonUtil.Str(idNode) is null)
            throw new DidException("DID document: 'id' must be a string");
        Id = JsonUtil.Str(json, "id") ?? "";
        AlsoKnownAs = JsonUtil.Strings(json, "alsoKnownAs", "DID document");
        IsLegacy = json.ContainsKey("publicKey");

        // RFC 0160/0067 legacy documents list keys under publicKey; DID Core under verificationMethod.
        foreach (var section in (string[])["publicKey", "verificationMethod"])
        {
            foreach (var item in JsonUtil.Items(json, section))
            {
                if (item is not JsonObject o) throw new DidException($"DID document: every '{section}' entry must be an object");
                AddMethod(o, section);
            }
        }

        foreach (var rel in RelationshipNames)
        {
            var list = new List<VerificationMethod>();
            foreach (var item in JsonUtil.Items(json, rel))
            {
                VerificationMethod? m;
                if (JsonUtil.Str(item) is { } reference)
                    m = Lookup(reference, rel);
                else if (item is JsonObject o && JsonUtil.Str(o, "id") is null && JsonUtil.Str(o, "publicKey") is { } legacyRef)
                    m = Lookup(legacyRef, rel);   // RFC 0160: {"type": "Ed25519SignatureAuthentication2018", "publicKey": "did#1"}
                else if (item is JsonObject embedded)
                    m = AddMethod(embedded, rel);
                else
                    throw new DidException($"DID document: every '{rel}' entry must be a reference string or an object");
                if (m is not null && !list.Contains(m)) list.Add(m);
            }
            _relationships[rel] = list;
        }
    }

    /// <summary>The document as JSON (a private copy: treat it as read-only).</summary>
    public JsonObject Json => _json;

    /// <summary>The root <c>id</c>; empty for a document without one (stored variant / input document).</summary>
    public string Id { get; }

    public IReadOnlyList<string> AlsoKnownAs { get; }

    /// <summary>True for the RFC 0160 / 0067 legacy shape (keys under <c>publicKey</c>).</summary>
    public bool IsLegacy { get; }

    /// <summary>Every usable key: <c>publicKey</c>, <c>verificationMethod</c>, then those embedded in relationships.</summary>
    public IReadOnlyList<VerificationMethod> VerificationMethods => _methods;

    public IReadOnlyList<VerificationMethod> Authentication => Relationship("authentication");

    public IReadOnlyList<VerificationMethod> KeyAgreement => Relationship("keyAgreement");

    /// <summary>The methods of one verification relationship (see <see cref="RelationshipNames"/>).</summary>
    public IReadOnlyList<VerificationMethod> Relationship(string name) =>
        _relationships.TryGetValue(name, out var l) ? l : [];

    /// <summary>Ids of verification methods whose key type is not Ed25519/X25519; they are left out of the lists.</summary>
    public IReadOnlyList<string> UnsupportedMethods => _unsupported;

    public static DidDocument Parse(string json) => FromJson(JsonUtil.ParseObject(json, "DID document"));

    /// <summary>Reads a document; the argument is copied, so later changes to it do not affect the result.</summary>
    public static DidDocument FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try { return new DidDocument(json.DeepClone().AsObject()); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new DidException("DID document: " + e.Message, e);
        }
    }

    /// <summary>The document serialized without whitespace.</summary>
    public string ToJsonString() => _json.ToJsonString();

    public override string ToString() => $"DidDocument({DidException.Abbrev(Id)})";

    /// <summary>
    /// Finds a key by id or reference: <c>"#key-1"</c>, <c>"did:…#key-1"</c>, a legacy bare <c>"1"</c>, or
    /// <c>"did:sov:X#1"</c> in a document whose id is the unqualified <c>X</c> (and the reverse). A DID part that is
    /// neither this document's id nor one of its <c>alsoKnownAs</c> only matches a method with exactly that id.
    /// </summary>
    public VerificationMethod? FindMethod(string idOrRef)
    {
        if (string.IsNullOrEmpty(idOrRef)) return null;
        return _methods.FirstOrDefault(m => m.Id == idOrRef) ?? _methods.FirstOrDefault(m => SameMethod(m.Id, idOrRef));
    }

    /// <summary>True if <paramref name="did"/> names this document: its id, an alsoKnownAs, or the did:sov twin of an unqualified id.</summary>
    public bool IsNamed(string did)
    {
        if (string.IsNullOrEmpty(did)) return false;
        if (did == Id || AlsoKnownAs.Contains(did)) return true;
        return Id.Length > 0 && ("did:sov:" + did == Id || did == "did:sov:" + Id);
    }

    /// <summary>
    /// The DIDComm services of the document, one view over every shape (RFC 0160 IndyAgent, RFC 0067
    /// did-communication, DIDComm v2 DIDCommMessaging), sorted by priority (stable: document order breaks ties).
    /// Recipient keys come back as base58: v1 keys may be written as references into this document
    /// (<c>"#key-1"</c>, <c>"did:sov:X#1"</c>), did:key or raw base58 and MUST be Ed25519 (RFC 0019 packs for
    /// Ed25519 verkeys); v2 services without recipientKeys use the document's X25519 keyAgreement keys.
    /// Services of other types are skipped. RFC 0067 §"Service Conventions": recipientKeys "used to denote the
    /// default recipients of an endpoint"; routingKeys "ordered from most destward to most srcward" (kept as
    /// given); priority "mandatory ... unsigned integer with the default value of 0", and "the default
    /// did-communication service definition would be used by resolving the lowest priority service definition".
    /// One malformed DIDComm service makes the whole call a <see cref="DidException"/>: that is a finding to report,
    /// not something to paper over.
    /// </summary>
    public IReadOnlyList<DidCommService> DidCommServices()
    {
        var list = new List<DidCommService>();
        var index = 0;
        foreach (var node in JsonUtil.Items(_json, "service"))
        {
            index++;
            if (node is not JsonObject s) throw new DidException($"DID document: service {index} is not a JSON object");
            var types = JsonUtil.Items(s, "type").Select(JsonUtil.Str).ToList();
            var type = types.FirstOrDefault(t => t is DidCommService.IndyAgent or DidCommService.DidCommunication or DidCommService.DidCommMessaging);
            if (type is null) continue;
            var rawId = JsonUtil.Str(s, "id");
            var id = rawId is null ? "" : Absolute(rawId, Id);
            var where = $"{type} service {DidException.Abbrev(rawId ?? "#" + index)}";
            var v2 = type == DidCommService.DidCommMessaging;
            var priority = Priority(s, where);

            List<string> recipients;
            if (s.ContainsKey("recipientKeys"))
                recipients = JsonUtil.Strings(s, "recipientKeys", where).Select(k => RecipientKey(k, v2, where)).ToList();
            else if (v2)
                recipients = KeyAgreement.Where(m => m.Codec == KeyCodec.X25519Pub).Select(m => m.Verkey).ToList();
            else
                recipients = [];
            if (recipients.Count == 0)
                throw new DidException(v2
                    ? $"{where}: the document has no X25519 keyAgreement key to encrypt to"
                    : $"{where}: recipientKeys is missing or empty");

            foreach (var (uri, endpointObject) in Endpoints(s, where))
            {
                // DIDComm v2.1 puts accept/routingKeys inside serviceEndpoint; v2.0 and v1 put them on the service.
                var holder = endpointObject is not null && (endpointObject.ContainsKey("routingKeys") || endpointObject.ContainsKey("accept"))
                    ? endpointObject : s;
                var routing = JsonUtil.Strings(holder, "routingKeys", where);
                var accept = JsonUtil.Strings(holder, "accept", where);
                list.Add(new DidCommService(id, type, uri, recipients, routing, accept, priority));
            }
        }
        return list.OrderBy(x => x.Priority).ToList();
    }

    private static int Priority(JsonObject s, string where)
    {
        if (!s.TryGetPropertyValue("priority", out var p) || p is null) return 0;   // RFC 0067: "the default value of 0"
        if (p is JsonValue v && v.TryGetValue<int>(out var n)) return n;
        if (JsonUtil.Str(p) is { } text && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out n)) return n;
        throw new DidException($"{where}: priority must be an integer");
    }

    private static List<(string Uri, JsonObject? Object)> Endpoints(JsonObject s, string where)
    {
        if (!s.TryGetPropertyValue("serviceEndpoint", out var ep) || ep is null)
            throw new DidException($"{where}: serviceEndpoint is missing");
        var result = new List<(string, JsonObject?)>();
        IEnumerable<JsonNode?> items = ep is JsonArray a ? a : new[] { ep };
        foreach (var item in items)
        {
            if (JsonUtil.Str(item) is { Length: > 0 } uri) result.Add((uri, null));
            else if (item is JsonObject o && JsonUtil.Str(o, "uri") is { Length: > 0 } u) result.Add((u, o));
            else throw new DidException($"{where}: serviceEndpoint must be a URI or an object with a 'uri'");
        }
        if (result.Count == 0) throw new DidException($"{where}: serviceEndpoint is empty");
        return result;
    }

    private string RecipientKey(string key, bool v2, string where)
    {
        KeyCodec codec;
        string base58;
        if (key.StartsWith(DidKey.Prefix, StringComparison.Ordinal))
        {
            var (c, k) = DidKey.Parse(key);
            (codec, base58) = (c, Base58.Encode(k));
        }
        else if (key.StartsWith('#') || key.Contains('#') || key.StartsWith("did:", StringComparison.Ordinal))
        {
            var m = FindMethod(key) ?? throw new DidException(_unsupported.Any(u => SameMethod(u, key))
                ? $"{where}: recipient key {DidException.Abbrev(key)} has an unsupported key type (only Ed25519 and X25519 are)"
                : $"{where}: recipient key {DidException.Abbrev(key)} is not a key of this document");
            (codec, base58) = (m.Codec, m.Verkey);
        }
        else if (!(Base58.TryDecode(key, out var raw) && raw.Length == 32) && FindMethod(key) is { } bare)
        {
            (codec, base58) = (bare.Codec, bare.Verkey);   // a legacy bare id such as "1"
        }
        else
        {
            if (raw.Length != 32)
                throw new DidException($"{where}: recipient key '{DidException.Abbrev(key)}' is neither a key reference, a did:key nor a base58 32-byte key");
            (codec, base58) = (KeyCodec.Ed25519Pub, key);
        }
        if (!v2 && codec != KeyCodec.Ed25519Pub)
            throw new DidException($"{where}: recipient key {DidException.Abbrev(key)} is X25519, but DIDComm v1 (RFC 0019) needs Ed25519 verkeys");
        return base58;
    }

    private VerificationMethod? AddMethod(JsonObject o, string section)
    {
        var (result, method, id) = VerificationMethod.Read(o, Id, $"DID document '{section}'");
        if (result == VerificationMethod.Parse.Unsupported)
        {
            if (!_unsupported.Contains(id)) _unsupported.Add(id);
            return null;
        }
        var existing = _methods.FirstOrDefault(m => m.Id == method!.Id);
        if (existing is null)
        {
            _methods.Add(method!);
            return method;
        }
        if (!existing.PublicKey.AsSpan().SequenceEqual(method!.PublicKey))
            throw new DidException($"DID document: verification method {DidException.Abbrev(id)} is defined twice with different keys");
        return existing;
    }

    private VerificationMethod? Lookup(string reference, string relationship)
    {
        if (FindMethod(reference) is { } m) return m;
        if (_unsupported.Any(u => SameMethod(u, reference))) return null;
        var (did, _) = SplitRef(reference);
        if (did.Length > 0 && !IsNamed(did)) return null;   // another DID's key: a resolver's business, not ours
        throw new DidException($"DID document: '{relationship}' references {DidException.Abbrev(reference)}, which the document does not define");
    }

    private bool SameMethod(string methodId, string reference)
    {
        if (methodId == reference) return true;
        var (rd, rf) = SplitRef(reference);
        var (md, mf) = SplitRef(methodId);
        return rf is not null && rf == mf && (rd.Length == 0 || IsNamed(rd)) && (md.Length == 0 || IsNamed(md));
    }

    /// <summary>Splits a DID URL into DID and fragment: "#k" → ("", "k"); "did:x#k" → ("did:x", "k"); "1" → ("", "1"); "did:x" → ("did:x", null).</summary>
    internal static (string Did, string? Fragment) SplitRef(string reference)
    {
        var hash = reference.IndexOf('#');
        if (hash >= 0) return (reference[..hash], reference[(hash + 1)..]);
        return reference.StartsWith("did:", StringComparison.Ordinal) ? (reference, null) : ("", reference);
    }

    /// <summary>Makes a relative id absolute against the document id: "#k" and legacy bare "1" become "did#k", "did#1".</summary>
    internal static string Absolute(string id, string docId)
    {
        if (docId.Length == 0) return id;
        if (id.StartsWith('#')) return docId + id;
        if (!id.Contains('#') && !id.Contains(';') && !id.StartsWith("did:", StringComparison.Ordinal)) return docId + "#" + id;
        return id;
    }
}
