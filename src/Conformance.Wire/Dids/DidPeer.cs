using System.Text;
using System.Text.Json.Nodes;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Dids;

/// <summary>
/// The did:peer method (shared/specs/peer-did/core.md), numalgos 0–4, as profiled for Aries by RFC 0627
/// (static peer DIDs: numalgo 0, 1, 2) and RFC 0793 (did:peer:4 replaces unqualified DIDs).
/// <list type="bullet">
/// <item>0 — inception key without doc: "functionally equivalent to a did:key value".</item>
/// <item>1 — genesis doc: SHA-256 of the stored variant (the document without its id), multihash <c>0x12 0x20</c>.</item>
/// <item>2 — keys with purpose codes plus abbreviated, base64url services in the DID itself.</item>
/// <item>3 — <c>did:peer:3</c> + multibase(multihash(sha256(did:peer:2 minus its "did:peer:2" prefix))).</item>
/// <item>4 — long form <c>did:peer:4{hash}:{encoded doc}</c>, short form <c>did:peer:4{hash}</c>.</item>
/// </list>
/// Generated and resolved JSON follows the did-peer-2 and did-peer-4 reference implementations
/// (shared/vectors/did-peer-2.json, did-peer-4.json), property order included.
/// </summary>
public static class DidPeer
{
    public const string Prefix = "did:peer:";

    private static readonly byte[] Sha256Multihash = [0x12, 0x20];
    private static readonly byte[] JsonMulticodec = Varint.Encode(0x0200);   // "prefix ... for json (varint 0x0200)"

    // ---------------------------------------------------------------- numalgo 0

    /// <summary>did:peer:0 from an Ed25519 public key: <c>did:peer:0z6Mk…</c>.</summary>
    public static string Numalgo0(ReadOnlySpan<byte> ed25519Public) => Prefix + "0" + DidKey.FromEd25519(ed25519Public)[DidKey.Prefix.Length..];

    // ---------------------------------------------------------------- numalgo 1

    /// <summary>
    /// did:peer:1 of a genesis document. core.md, Method 1: the genesis doc "MUST NOT include the DID itself
    /// (either the root id property or its value)"; "Calculate the SHA256 hash of the bytes of the stored variant
    /// of the genesis version of the DID doc". The bytes are the document minus any root <c>id</c>, serialized
    /// without whitespace as JSON.stringify does (Credo's <c>didDocumentJsonToNumAlgo1Did</c> does exactly this).
    /// </summary>
    public static string Numalgo1(DidDocument genesisDocWithoutId)
    {
        ArgumentNullException.ThrowIfNull(genesisDocWithoutId);
        return Numalgo1(genesisDocWithoutId.Json);
    }

    public static string Numalgo1(JsonObject genesisDocWithoutId, bool pythonAsciiEscaping = false)
    {
        ArgumentNullException.ThrowIfNull(genesisDocWithoutId);
        var stored = new JsonObject();
        foreach (var (k, v) in genesisDocWithoutId)
            if (k != "id") stored[k] = v?.DeepClone();
        return Prefix + "1" + HashMultibase(Utf8(JsonUtil.Compact(stored, pythonAsciiEscaping)));
    }

    // ---------------------------------------------------------------- numalgo 2

    /// <summary>Purpose codes (core.md, Method 2, "Purpose Codes") and the verification relationship each maps to.</summary>
    public static string RelationshipOf(char purpose) => purpose switch
    {
        'A' => "assertionMethod",
        'E' => "keyAgreement",
        'V' => "authentication",
        'I' => "capabilityInvocation",
        'D' => "capabilityDelegation",
        _ => throw new DidException($"'{purpose}' is not a did:peer:2 key purpose code (A, E, V, I or D)"),
    };

    // core.md, Method 2, "Common String Abbreviations".
    private static readonly (string Full, string Abbrev)[] Abbreviations =
        [("type", "t"), ("DIDCommMessaging", "dm"), ("serviceEndpoint", "s"), ("routingKeys", "r"), ("accept", "a")];

    /// <summary>
    /// did:peer:2 from keys (multibase multicodec, each with a purpose code V, E, A, I or D) and services.
    /// core.md: services are abbreviated ("Recursively replace common strings in key names and type value"),
    /// serialized without whitespace, base64url-encoded without padding ("Padding MUST be removed") and each
    /// prefixed ".S"; "service id attributes MUST be relative"; multiple services "MUST be encoded individually".
    /// </summary>
    public static string Numalgo2(IReadOnlyList<(char Purpose, string Multibase)> keys, IReadOnlyList<JsonObject> services)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(services);
        if (keys.Count == 0 && services.Count == 0) throw new DidException("a did:peer:2 needs at least one key or service");
        var sb = new StringBuilder(Prefix + "2");
        foreach (var (purpose, multibase) in keys)
        {
            RelationshipOf(purpose);
            DidKey.DecodeMultikey(multibase ?? "", $"did:peer:2 key '{DidException.Abbrev(multibase)}'");
            sb.Append('.').Append(purpose).Append(multibase);
        }
        foreach (var service in services)
        {
            ArgumentNullException.ThrowIfNull(service);
            if (service.TryGetPropertyValue("id", out var idNode) && !(JsonUtil.Str(idNode)?.StartsWith('#') ?? false))
                throw new DidException("did:peer:2 service ids MUST be relative (start with '#')");
            var abbreviated = Abbreviate(service);
            sb.Append(".S").Append(Base64Url.Encode(Utf8(JsonUtil.Compact(abbreviated))));
        }
        return sb.ToString();
    }

    /// <summary>did:peer:3 of a did:peer:2 (core.md, Method 3): sha256 of the DID without its "did:peer:2" prefix.</summary>
    public static string Numalgo2To3(string did2)
    {
        ParseNumalgo2(did2);   // only a valid did:peer:2 has a did:peer:3
        return Prefix + "3" + HashMultibase(Utf8(did2[(Prefix.Length + 1)..]));
    }

    private static JsonObject Abbreviate(JsonObject o) => Rewrite(o, abbreviate: true);

    private static JsonObject Expand(JsonObject o) => Rewrite(o, abbreviate: false);

    private static JsonObject Rewrite(JsonObject o, bool abbreviate)
    {
        var result = new JsonObject();
        foreach (var (key, value) in o)
        {
            var name = Map(key, abbreviate);
            if (result.ContainsKey(name)) throw new DidException($"did:peer:2 service has both '{key}' and its abbreviation");
            JsonNode? copy = value switch
            {
                JsonObject child => Rewrite(child, abbreviate),
                JsonArray array => new JsonArray(array.Select(e => e is JsonObject c ? Rewrite(c, abbreviate) : e?.DeepClone()).ToArray()),
                _ => value?.DeepClone(),
            };
            // Only the type value is abbreviated ("DIDCommMessaging" <-> "dm"), never other values.
            if (name == (abbreviate ? "t" : "type") && JsonUtil.Str(copy) is { } t)
                copy = abbreviate ? (t == "DIDCommMessaging" ? "dm" : t) : (t == "dm" ? "DIDCommMessaging" : t);
            result[name] = copy;
        }
        return result;
    }

    private static string Map(string key, bool abbreviate)
    {
        foreach (var (full, abbrev) in Abbreviations)
            if (abbreviate ? key == full : key == abbrev) return abbreviate ? abbrev : full;
        return key;
    }

    private sealed record Peer2(List<(char Purpose, string Multibase)> Keys, List<JsonObject> Services);

    private static Peer2 ParseNumalgo2(string did)
    {
        if (string.IsNullOrEmpty(did) || !did.StartsWith(Prefix + "2", StringComparison.Ordinal))
            throw new DidException($"'{DidException.Abbrev(did)}' is not a did:peer:2");
        var body = did[(Prefix.Length + 1)..];
        if (body.Length == 0 || body[0] != '.') throw new DidException("did:peer:2 must continue with '.' and a key or service element");
        var elements = body[1..].Split('.');
        var keys = new List<(char, string)>();
        var services = new List<JsonObject>();
        for (var i = 0; i < elements.Length; i++)
        {
            var e = elements[i];
            var where = $"did:peer:2 element {i + 1}";
            if (e.Length < 2) throw new DidException($"{where} is empty or truncated");
            var purpose = e[0];
            var rest = e[1..];
            if (purpose == 'S')
            {
                foreach (var c in rest)
                    if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '='))
                        throw new DidException($"{where}: '{c}' is not a base64url character");
                if (!Base64Url.TryDecode(rest, out var bytes)) throw new DidException($"{where}: the service is not valid base64url");
                services.Add(Expand(JsonUtil.ParseObject(bytes, $"{where} (service)")));
            }
            else
            {
                if (purpose is not ('A' or 'E' or 'V' or 'I' or 'D'))
                    throw new DidException($"{where}: unknown purpose code '{purpose}' (expected A, E, V, I, D or S)");
                DidKey.DecodeMultikey(rest, $"{where} ({purpose})");
                keys.Add((purpose, rest));
            }
        }
        return new Peer2(keys, services);
    }

    /// <summary>core.md, "Resolving a did:peer:2".</summary>
    private static JsonObject ResolveNumalgo2(string did)
    {
        var (keys, services) = ParseNumalgo2(did);
        var doc = new JsonObject
        {
            ["@context"] = new JsonArray("https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"),
            ["id"] = did,
        };
        for (var n = 1; n <= keys.Count; n++)
        {
            var (purpose, multibase) = keys[n - 1];
            // "Set the id of the verification method to #key-N where N is an incrementing number starting at 1".
            Array(doc, "verificationMethod").Add(new JsonObject
            {
                ["id"] = $"#key-{n}",
                ["controller"] = did,
                ["type"] = "Multikey",
                ["publicKeyMultibase"] = multibase,
            });
            Array(doc, RelationshipOf(purpose)).Add($"#key-{n}");
        }
        var unnamed = 0;
        foreach (var service in services)
        {
            // "Set id to #service for the first such service", then "#service-1", "#service-2", …
            if (!service.ContainsKey("id")) service["id"] = unnamed++ == 0 ? "#service" : $"#service-{unnamed - 1}";
            Array(doc, "service").Add(service);
        }
        doc["alsoKnownAs"] = new JsonArray(Numalgo2To3(did));
        return doc;
    }

    private static JsonArray Array(JsonObject doc, string name)
    {
        if (doc[name] is JsonArray a) return a;
        var created = new JsonArray();
        doc[name] = created;
        return created;
    }

    // ---------------------------------------------------------------- numalgo 4

    /// <summary>
    /// did:peer:4 of an input document (core.md, Method 4, "Creating a DID"): JSON without whitespace, utf-8,
    /// multicodec json prefix (varint 0x0200), base58btc multibase = the encoded document; the hash is the
    /// base58btc multibase of the sha2-256 multihash of the encoded document's characters.
    /// "The document MUST NOT include an id at the root"; "All identifiers within this document MUST be relative".
    /// </summary>
    public static string Numalgo4(JsonObject inputDocument, bool shortForm = false)
    {
        ArgumentNullException.ThrowIfNull(inputDocument);
        if (inputDocument.ContainsKey("id")) throw new DidException("a did:peer:4 input document MUST NOT include an id at the root");
        foreach (var section in (string[])["verificationMethod", "service", .. DidDocument.RelationshipNames])
            foreach (var item in JsonUtil.Items(inputDocument, section))
                if (item is JsonObject o && JsonUtil.Str(o, "id") is { } id && !id.StartsWith('#'))
                    throw new DidException($"did:peer:4 input document: identifier '{DidException.Abbrev(id)}' in {section} MUST be relative");
        var json = Utf8(JsonUtil.Compact(inputDocument));
        var encoded = Multibase.EncodeBase58Btc([.. JsonMulticodec, .. json]);
        var hash = HashMultibase(Utf8(encoded));
        return shortForm ? Prefix + "4" + hash : Prefix + "4" + hash + ":" + encoded;
    }

    /// <summary>The short form of a long did:peer:4 (the hash part only).</summary>
    public static string Numalgo4Short(string did4)
    {
        var (shortDid, _) = Split4(did4);
        return shortDid;
    }

    private static (string Short, string? Encoded) Split4(string did)
    {
        if (string.IsNullOrEmpty(did) || !did.StartsWith(Prefix + "4", StringComparison.Ordinal))
            throw new DidException($"'{DidException.Abbrev(did)}' is not a did:peer:4");
        var body = did[(Prefix.Length + 1)..];
        var colon = body.IndexOf(':');
        var hash = colon < 0 ? body : body[..colon];
        CheckHash(hash, "did:peer:4");
        if (colon < 0) return (did, null);
        var encoded = body[(colon + 1)..];
        if (encoded.Length < 2 || encoded[0] != 'z') throw new DidException("did:peer:4 encoded document must be multibase base58btc (start with 'z')");
        return (Prefix + "4" + hash, encoded);
    }

    /// <summary>core.md, Method 4, "Resolving a DID" / "Long form": verify the hash, then decode and contextualize.</summary>
    private static JsonObject DecodeLong(string did)
    {
        var (shortDid, encoded) = Split4(did);
        if (encoded is null) throw new DidException($"{DidException.Abbrev(did)} is a short form did:peer:4; it resolves only with the document received with its long form");
        if (Prefix + "4" + HashMultibase(Utf8(encoded)) != shortDid)
            throw new DidException($"did:peer:4 hash does not match its encoded document (altered or truncated DID {DidException.Abbrev(did)})");
        byte[] raw;
        try { raw = Multibase.Decode(encoded); }
        catch (FormatException e) { throw new DidException($"did:peer:4 encoded document: {e.Message}", e); }
        ulong codec;
        int read;
        try { (codec, read) = Varint.Decode(raw); }
        catch (FormatException) { throw new DidException("did:peer:4 encoded document is truncated (no multicodec prefix)"); }
        if (codec != 0x0200) throw new DidException($"did:peer:4 encoded document has multicodec 0x{codec:x}; expected json (0x200)");
        var doc = JsonUtil.ParseObject(raw.AsSpan(read), "did:peer:4 encoded document");
        if (doc.ContainsKey("id")) throw new DidException("did:peer:4 encoded document has a root id, which the input document MUST NOT include");
        return doc;
    }

    /// <summary>
    /// "To contextualize a document": set controller on every verification method (declared or embedded) that
    /// lacks one, add the root id, and add alsoKnownAs "if not already present, and append" the other form.
    /// </summary>
    private static JsonObject Contextualize(JsonObject doc, string did, string otherForm)
    {
        foreach (var section in (string[])["verificationMethod", .. DidDocument.RelationshipNames])
            foreach (var item in JsonUtil.Items(doc, section))
                if (item is JsonObject vm && !vm.ContainsKey("controller")) vm["controller"] = did;
        doc["id"] = did;
        if (doc["alsoKnownAs"] is JsonArray aka)
        {
            if (!aka.Any(a => JsonUtil.Str(a) == otherForm)) aka.Add(otherForm);
        }
        else
        {
            doc["alsoKnownAs"] = new JsonArray(otherForm);
        }
        return doc;
    }

    // ---------------------------------------------------------------- resolution

    /// <summary>The numalgo digit of a did:peer, or an error for anything else.</summary>
    public static char NumalgoOf(string did)
    {
        if (string.IsNullOrEmpty(did) || !did.StartsWith(Prefix, StringComparison.Ordinal))
            throw new DidException($"'{DidException.Abbrev(did)}' is not a did:peer");
        if (did.Length == Prefix.Length) throw new DidException("did:peer is missing its numalgo");
        var n = did[Prefix.Length];
        return n is >= '0' and <= '4' ? n : throw new DidException($"did:peer numalgo '{n}' is unknown (supported: 0, 1, 2, 3, 4)");
    }

    /// <summary>True for the forms that resolve from the DID alone: numalgo 0, 2 and long-form 4.</summary>
    public static bool IsSelfResolving(string did)
    {
        try
        {
            return NumalgoOf(did) switch { '0' or '2' => true, '4' => did.IndexOf(':', Prefix.Length) > 0, _ => false };
        }
        catch (DidException) { return false; }
    }

    /// <summary>
    /// Resolves a did:peer (a DID URL fragment is ignored). Numalgo 0, 2 and long-form 4 resolve from the DID
    /// alone. Numalgo 1, 3 and short-form 4 need <paramref name="providedDocument"/> (e.g. from a
    /// <c>did_doc~attach</c>, or a document resolved earlier), which is checked against the DID: the numalgo 1
    /// hash, the did:peer:3 of the document's did:peer:2, the did:peer:4 hash.
    /// </summary>
    public static DidDocument Resolve(string did, DidDocument? providedDocument = null)
    {
        var (didOnly, _) = DidDocument.SplitRef(did ?? "");
        return NumalgoOf(didOnly) switch
        {
            '0' => ResolveNumalgo0(didOnly),
            '1' => ResolveNumalgo1(didOnly, providedDocument),
            '2' => DidDocument.FromJson(ResolveNumalgo2(didOnly)),
            '3' => ResolveNumalgo3(didOnly, providedDocument),
            _ => ResolveNumalgo4(didOnly, providedDocument),
        };
    }

    private static DidDocument ResolveNumalgo0(string did)
    {
        var (codec, key) = DidKey.DecodeMultikey(did[(Prefix.Length + 1)..], "did:peer:0");
        return DidDocument.FromJson(DidKey.KeyDocument(did, codec, key));
    }

    private static DidDocument ResolveNumalgo1(string did, DidDocument? provided)
    {
        CheckHash(did[(Prefix.Length + 1)..], "did:peer:1");
        if (provided is null)
            throw new DidException($"{DidException.Abbrev(did)} cannot be resolved without the document it was created from (did_doc~attach)");
        if (provided.Id.Length > 0 && provided.Id != did)
            throw new DidException($"the provided document is for {DidException.Abbrev(provided.Id)}, not {DidException.Abbrev(did)}");
        // The hash covers the sender's serialization; accept the JSON.stringify form and Python's ensure_ascii form.
        if (Numalgo1(provided.Json) != did && Numalgo1(provided.Json, pythonAsciiEscaping: true) != did)
            throw new DidException($"{DidException.Abbrev(did)} does not match the SHA-256 hash of the provided document (without its id)");
        var resolved = new JsonObject { ["id"] = did };
        foreach (var (k, v) in provided.Json)
            if (k != "id") resolved[k] = v?.DeepClone();
        return DidDocument.FromJson(resolved);
    }

    private static DidDocument ResolveNumalgo3(string did, DidDocument? provided)
    {
        CheckHash(did[(Prefix.Length + 1)..], "did:peer:3");
        if (provided is null)
            throw new DidException($"{DidException.Abbrev(did)} cannot be resolved without the did:peer:2 it shortens");
        var peer2 = new[] { provided.Id }.Concat(provided.AlsoKnownAs)
            .FirstOrDefault(d => d.StartsWith(Prefix + "2", StringComparison.Ordinal))
            ?? throw new DidException($"the provided document is not a did:peer:2 document, so it cannot stand for {DidException.Abbrev(did)}");
        if (Numalgo2To3(peer2) != did)
            throw new DidException($"{DidException.Abbrev(did)} is not the did:peer:3 of {DidException.Abbrev(peer2)}");
        // Re-derive from the did:peer:2 itself rather than trusting the provided JSON, then name it by the short form.
        var doc = ResolveNumalgo2(peer2);
        doc["id"] = did;
        doc["alsoKnownAs"] = new JsonArray(peer2);
        return DidDocument.FromJson(doc);
    }

    private static DidDocument ResolveNumalgo4(string did, DidDocument? provided)
    {
        var (shortDid, encoded) = Split4(did);
        if (encoded is not null)
            return DidDocument.FromJson(Contextualize(DecodeLong(did), did, shortDid));

        // "To resolve a short form did:peer:4 DID, you must know the corresponding long form DID."
        if (provided is null)
            throw new DidException($"{DidException.Abbrev(did)} is a short form did:peer:4; it resolves only with the document received with its long form");
        var longForm = new[] { provided.Id }.Concat(provided.AlsoKnownAs)
            .FirstOrDefault(d => d.StartsWith(shortDid + ":", StringComparison.Ordinal));
        JsonObject input;
        if (longForm is not null)
        {
            input = DecodeLong(longForm);
        }
        else if (provided.Id.Length == 0)
        {
            input = (JsonObject)provided.Json.DeepClone();   // an input document: check that it hashes to this DID
            longForm = Numalgo4(input);
            if (Numalgo4Short(longForm) != shortDid)
                throw new DidException($"{DidException.Abbrev(did)} does not match the hash of the provided input document");
        }
        else
        {
            throw new DidException($"the provided document ({DidException.Abbrev(provided.Id)}) does not carry the long form of {DidException.Abbrev(did)}");
        }
        return DidDocument.FromJson(Contextualize(input, shortDid, longForm));
    }

    // ---------------------------------------------------------------- hashing

    /// <summary>multibase(base58btc, 0x12 0x20 ‖ sha256(data)) — "zQm…".</summary>
    private static string HashMultibase(byte[] data) => Multibase.EncodeBase58Btc([.. Sha256Multihash, .. Crypto.Sodium.Sha256(data)]);

    private static byte[] Utf8(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static void CheckHash(string multibase, string what)
    {
        if (multibase.Length == 0) throw new DidException($"{what} is missing its hash");
        if (multibase[0] != 'z') throw new DidException($"{what}: the hash must be multibase base58btc (start with 'z')");
        if (!Base58.TryDecode(multibase[1..], out var raw))
            throw new DidException($"{what}: the hash is not valid base58btc");
        if (raw.Length != 34)
            throw new DidException($"{what}: the hash decodes to {raw.Length} bytes; a sha2-256 multihash has 34 (truncated?)");
        if (raw[0] != 0x12 || raw[1] != 0x20)
            throw new DidException($"{what}: the hash is not a sha2-256 multihash (0x12 0x20 prefix)");
    }
}
