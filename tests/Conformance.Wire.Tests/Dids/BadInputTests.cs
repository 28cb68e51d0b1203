using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;
using FsCheck;
using FsCheck.Fluent;

namespace Conformance.Wire.Tests.Dids;

/// <summary>Malformed input of every kind fails with a <see cref="DidException"/> carrying a clear one-line message.</summary>
public class BadInputTests
{
    private const string Hello4Long = "did:peer:4zQmb7xLdVY9TXx8oov5XgpGUmGELgqiAV2699s43i6Qdm3M:zQSJgiFTYiCHjQ9MktwNThRXM7a";
    private const string Ed = "z6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc";

    private static string Z(params byte[] bytes) => "z" + Base58.Encode(bytes);

    private static string Sha256Multibase(string s) => Z([0x12, 0x20, .. SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(s))]);

    /// <summary>A did:peer:4 whose hash is right but whose encoded document is not json-multicodec JSON.</summary>
    private static string Peer4With(byte[] encodedBytes)
    {
        var encoded = Z(encodedBytes);
        return $"did:peer:4{Sha256Multibase(encoded)}:{encoded}";
    }

    public static IEnumerable<TestCaseData> BadPeerDids()
    {
        TestCaseData Case(string did, string message, string name) => new TestCaseData(did, message).SetName("did:peer rejects " + name);
        yield return Case("", "is not a did:peer", "empty");
        yield return Case("did:web:example.com", "is not a did:peer", "another method");
        yield return Case("did:peer:", "missing its numalgo", "no numalgo");
        yield return Case("did:peer:5zQmb7xLdVY9TXx8oov5XgpGUmGELgqiAV2699s43i6Qdm3M", "numalgo '5' is unknown", "unknown numalgo");
        yield return Case("did:peer:0", "key is missing", "numalgo 0 without key");
        yield return Case("did:peer:06Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc", "start with 'z'", "numalgo 0 without multibase");
        yield return Case("did:peer:0z6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47k", "truncated?", "truncated numalgo 0");
        yield return Case("did:peer:0" + Z([0x12, 0x20, .. new byte[32]]), "multicodec 0x12 is not", "numalgo 0 with a hash multicodec");
        yield return Case("did:peer:0" + Z([0x80, 0x24, .. new byte[33]]), "multicodec 0x1200 is not", "numalgo 0 with a P-256 key");
        yield return Case("did:peer:0z0OIl", "not a base58btc character", "numalgo 0 with bad base58");
        yield return Case("did:peer:1zQmXv3d2vqC2Q9JrnrFqqj5h8vzcNAumL1UZbb1TGh58j2c", "cannot be resolved without the document", "numalgo 1 without document");
        yield return Case("did:peer:1" + Ed, "not a sha2-256 multihash", "numalgo 1 with a key instead of a hash");
        yield return Case("did:peer:1zQmXv3d2vqC2Q9JrnrFqqj5h8vzc", "truncated?", "truncated numalgo 1");
        yield return Case("did:peer:2", "must continue with '.'", "numalgo 2 without elements");
        yield return Case("did:peer:2.", "empty or truncated", "numalgo 2 with an empty element");
        yield return Case("did:peer:2.X" + Ed, "unknown purpose code 'X'", "numalgo 2 unknown purpose");
        yield return Case("did:peer:2.V" + Ed[..^5], "truncated?", "numalgo 2 truncated key");
        yield return Case("did:peer:2.V" + Ed + "..E" + Ed, "empty or truncated", "numalgo 2 double dot");
        yield return Case("did:peer:2.V" + Ed + ".S!!!!", "not a base64url character", "numalgo 2 non-base64url service");
        yield return Case("did:peer:2.V" + Ed + ".SZm9v", "not valid JSON", "numalgo 2 service that is not JSON");
        yield return Case("did:peer:2.V" + Ed + ".SWzFd", "must be a JSON object", "numalgo 2 service that is an array");
        yield return Case("did:peer:2.V" + Ed + ".S_w", "not valid UTF-8", "numalgo 2 service that is not UTF-8");
        yield return Case("did:peer:3zQmS19jtYDvGtKVrJhQnRFpBQAx3pJ9omx2HpNrcXFuRCz9", "without the did:peer:2", "numalgo 3 without document");
        yield return Case("did:peer:4", "missing its hash", "numalgo 4 without hash");
        yield return Case(Hello4Long[..^1] + "b", "hash does not match", "numalgo 4 hash mismatch (altered document)");
        yield return Case(Hello4Long[..^3], "hash does not match", "numalgo 4 truncated document");
        yield return Case(Hello4Long[..30], "truncated?", "numalgo 4 truncated hash");
        yield return Case(Hello4Long.Replace(":zQSJ", ":QSJ"), "must be multibase base58btc", "numalgo 4 with an encoded document that is not multibase");
        yield return Case(Hello4Long[..(Hello4Long.LastIndexOf(':') + 1)], "must be multibase base58btc", "numalgo 4 with an empty document");
        yield return Case(Hello4Long[..Hello4Long.LastIndexOf(':')], "short form", "numalgo 4 short form without document");
        yield return Case(Peer4With([0xa9, 0x02, .. "{}"u8]), "multicodec 0x129; expected json", "numalgo 4 wrong multicodec");
        yield return Case(Peer4With([0x80, 0x04, .. "[1]"u8]), "must be a JSON object", "numalgo 4 document that is not an object");
        yield return Case(Peer4With([0x80, 0x04, .. "{\"id\":\"x\"}"u8]), "MUST NOT include", "numalgo 4 document with an id");
        yield return Case(Peer4With([0x80]), "truncated", "numalgo 4 truncated multicodec");
        yield return Case(Peer4With([0x80, 0x04, 0xff, 0xfe]), "not valid UTF-8", "numalgo 4 document that is not UTF-8");
    }

    [TestCaseSource(nameof(BadPeerDids))]
    public void Bad_peer_did(string did, string message)
    {
        var e = Assert.Throws<DidException>(() => DidPeer.Resolve(did));
        Assert.That(e!.Message, Does.Contain(message));
        Assert.That(e.Message, Does.Not.Contain("\n"));
        Assert.Throws<DidException>(() => new DidResolver().Resolve(did));
    }

    [TestCase("", "is empty")]
    [TestCase("did:peer:0" + Ed, "is not a did:key")]
    [TestCase("did:key:", "key is missing")]
    [TestCase("did:key:6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc", "start with 'z'")]
    [TestCase("did:key:z", "truncated")]
    [TestCase("did:key:z6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47k", "truncated?")]
    [TestCase("did:key:zQebgPz46dXF6xQtdeWC3Hp176BFCSRwmM6fivExUWaYckRGz", "must be 32 bytes")]   // 0xed 0x01 + 33 bytes
    [TestCase("did:key:zQmb7xLdVY9TXx8oov5XgpGUmGELgqiAV2699s43i6Qdm3M", "multicodec 0x12 is not")]
    [TestCase("did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv", "multicodec 0x1200 is not")]   // did:key spec P-256 example
    [TestCase("did:key:z0OIl", "not a base58btc character")]
    [TestCase("did:key:" + Ed + "#key-1", "does not name a key")]
    public void Bad_did_key(string did, string message)
    {
        var e = Assert.Throws<DidException>(() => DidKey.Parse(did));
        Assert.That(e!.Message, Does.Contain(message));
        Assert.Throws<DidException>(() => DidKey.Resolve(did));
        Assert.Throws<DidException>(() => DidKey.ToVerkey(did));
    }

    [Test]
    public void Ed25519_key_that_is_not_a_curve_point()
    {
        byte[] identity = [1, .. new byte[31]];   // the neutral element: small order, no X25519 counterpart
        var did = DidKey.FromEd25519(identity);
        Assert.That(Assert.Throws<DidException>(() => DidKey.Resolve(did))!.Message, Does.Contain("not a valid curve point"));
        Assert.Throws<DidException>(() => DidPeer.Resolve(DidPeer.Numalgo0(identity)));
    }

    [Test]
    public void Bad_key_arguments()
    {
        Assert.Throws<DidException>(() => DidKey.FromEd25519(new byte[31]));
        Assert.Throws<DidException>(() => DidKey.FromX25519(new byte[33]));
        Assert.Throws<DidException>(() => DidKey.FromVerkey("0OIl"));
        Assert.Throws<DidException>(() => DidKey.FromVerkey(""));
        Assert.Throws<DidException>(() => DidKey.FromVerkey("3M5RCDjPTWPkKSN3sxUmmM"));   // 16 bytes: a DID, not a verkey
        Assert.Throws<DidException>(() => DidPeer.Numalgo0(new byte[16]));
        Assert.Throws<DidException>(() => DidPeer.Numalgo2([('X', Ed)], []));
        Assert.Throws<DidException>(() => DidPeer.Numalgo2([('S', Ed)], []));
        Assert.Throws<DidException>(() => DidPeer.Numalgo2([('V', "z6Mk")], []));
        Assert.Throws<DidException>(() => DidPeer.Numalgo2([], []));
        Assert.Throws<DidException>(() => DidPeer.Numalgo2To3("did:peer:4" + Ed));
    }

    [TestCase("", "not valid JSON")]
    [TestCase("not json", "not valid JSON")]
    [TestCase("[]", "must be a JSON object")]
    [TestCase("{\"id\": \"did:example:a\", \"id\": \"did:example:b\"}", "Duplicate property 'id'")]
    [TestCase("{\"id\": 5}", "'id' must be a string")]
    [TestCase("{\"verificationMethod\": [5]}", "must be an object")]
    [TestCase("{\"verificationMethod\": [{\"type\": \"Multikey\"}]}", "has no 'id'")]
    [TestCase("{\"verificationMethod\": [{\"id\": \"#k\", \"type\": \"Ed25519VerificationKey2018\", \"publicKeyBase58\": \"0OIl\"}]}", "not valid base58")]
    [TestCase("{\"verificationMethod\": [{\"id\": \"#k\", \"type\": \"Ed25519VerificationKey2018\", \"publicKeyBase58\": \"3M5RCDjPTWPkKSN3sxUmmM\"}]}", "must be 32 bytes")]
    [TestCase("{\"verificationMethod\": [{\"id\": \"#k\", \"type\": \"Ed25519VerificationKey2018\"}]}", "without publicKeyBase58")]
    [TestCase("{\"verificationMethod\": [{\"id\": \"#k\", \"type\": \"Ed25519VerificationKey2020\", \"publicKeyMultibase\": \"z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc\"}]}", "needs a Ed25519 key but the key is X25519")]
    [TestCase("{\"verificationMethod\": [{\"id\": \"#k\", \"type\": \"Multikey\", \"publicKeyMultibase\": \"zzzz\"}]}", "not a multicodec")]
    [TestCase("{\"verificationMethod\": [{\"id\": \"#k\", \"type\": \"Multikey\", \"publicKeyMultibase\": \"q123\"}]}", "not valid multibase")]
    [TestCase("{\"verificationMethod\": [{\"id\": \"#k\", \"type\": \"JsonWebKey2020\", \"publicKeyJwk\": {\"kty\": \"OKP\", \"crv\": \"Ed25519\", \"x\": \"AAAA\"}}]}", "must be 32 bytes")]
    [TestCase("{\"authentication\": [\"#key-9\"]}", "does not define")]
    [TestCase("{\"authentication\": [5]}", "reference string or an object")]
    [TestCase("{\"alsoKnownAs\": [5]}", "must be a string")]
    [TestCase("{\"verificationMethod\": [{\"id\": \"#k\", \"type\": \"Multikey\", \"publicKeyMultibase\": \"z6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc\"}, {\"id\": \"#k\", \"type\": \"Multikey\", \"publicKeyMultibase\": \"z6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V\"}]}", "defined twice")]
    [TestCase("{\"service\": [5]}", "is not a JSON object", true)]
    public void Bad_document(string json, string message, bool atServices = false)
    {
        if (atServices)
        {
            var doc = DidDocument.Parse(json);
            Assert.That(Assert.Throws<DidException>(() => doc.DidCommServices())!.Message, Does.Contain(message));
            return;
        }
        Assert.That(Assert.Throws<DidException>(() => DidDocument.Parse(json))!.Message, Does.Contain(message));
    }

    [Test]
    public void Unsupported_key_types_are_listed_not_rejected()
    {
        // Credo fixture didPeer1zQmZ.json (from aries-framework-go): RSA and secp256k1 keys only.
        var doc = DidDocument.Parse("""
            {"@context": ["https://www.w3.org/ns/did/v1"],
             "authentication": [{"id": "did:example:123456789abcdefghs#key3", "type": "RsaVerificationKey2018", "controller": "did:example:123456789abcdefghs", "publicKeyHex": "02b97c30de767f084ce3080168ee293053ba33b235d7116a3263d29f1450936b71"}],
             "verificationMethod": [{"id": "did:example:123456789abcdefghi#keys-1", "type": "Secp256k1VerificationKey2018", "controller": "did:example:123456789abcdefghi", "publicKeyBase58": "H3C2AVvLMv6gmMNam3uVAjZpfkcJCwDwnZn6z3wXmqPV"},
                                    {"id": "#p256", "type": "Multikey", "publicKeyMultibase": "zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"}]}
            """);
        Assert.That(doc.UnsupportedMethods, Has.Count.EqualTo(3));
        Assert.That(doc.VerificationMethods, Is.Empty);
        Assert.That(doc.DidCommServices(), Is.Empty);
    }

    // ---------------------------------------------------------------- properties

    private static readonly string[] ValidDids =
    [
        Hello4Long,
        "did:peer:2.Vz6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc.Ez6LSg8zQom395jKLrGiBNruB9MM6V8PWuf2FpEy4uRFiqQBR.SeyJ0IjoiZG0iLCJzIjp7InVyaSI6Imh0dHA6Ly9leGFtcGxlLmNvbS9kaWRjb21tIiwiYSI6WyJkaWRjb21tL3YyIl0sInIiOlsiZGlkOmV4YW1wbGU6MTIzNDU2Nzg5YWJjZGVmZ2hpI2tleS0xIl19fQ",
        "did:peer:0z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH",
        "did:peer:3zQmS19jtYDvGtKVrJhQnRFpBQAx3pJ9omx2HpNrcXFuRCz9",
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p",
        "QUmsj7xwB82QAuuzfmvhAi",
    ];

    /// <summary>True when the action succeeds or fails with a one-line DidException; any other exception propagates (and FsCheck reports it).</summary>
    private static bool OnlyDidException(Action action)
    {
        try { action(); return true; }
        catch (DidException e) { return !e.Message.Contains('\n'); }
    }

    private static string Mutate(string s, int position, char replacement, bool truncate)
    {
        var i = Math.Abs(position % Math.Max(1, s.Length));
        return truncate ? s[..i] : s[..i] + replacement + (i + 1 < s.Length ? s[(i + 1)..] : "");
    }

    [FsCheck.NUnit.Property(MaxTest = 400)]
    public bool Mutated_DIDs_resolve_or_fail_with_DidException(int which, int position, char replacement, bool truncate)
    {
        var did = Mutate(ValidDids[Math.Abs(which % ValidDids.Length)], position, replacement, truncate);
        var resolver = new DidResolver();
        return OnlyDidException(() => resolver.Resolve(did))
            && OnlyDidException(() => { if (did.StartsWith("did:peer:")) DidPeer.Resolve(did); })
            && OnlyDidException(() => { if (did.StartsWith("did:key:")) DidKey.ToVerkey(did); });
    }

    private static readonly JsonNode?[] Replacements =
        [null, 5, -1.5, true, "", "#key-1", "did:key:z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p", "z6Mk", new JsonArray(), new JsonObject(), new JsonArray(7)];

    /// <summary>Every node of a document, so that a random one can be replaced.</summary>
    private static List<(JsonNode Parent, object Key)> Slots(JsonNode node)
    {
        var list = new List<(JsonNode, object)>();
        if (node is JsonObject o)
            foreach (var (k, v) in o) { list.Add((o, k)); if (v is not null) list.AddRange(Slots(v)); }
        else if (node is JsonArray a)
            for (var i = 0; i < a.Count; i++) { list.Add((a, i)); if (a[i] is { } c) list.AddRange(Slots(c)); }
        return list;
    }

    [FsCheck.NUnit.Property(MaxTest = 400)]
    public bool Documents_with_a_node_replaced_parse_or_fail_with_DidException(int which, int slot, int replacement)
    {
        var sources = new[]
        {
            DidPeer.Resolve(ValidDids[1]).Json, DidKey.Resolve(ValidDids[4]).Json, DidPeer.Resolve(Hello4Long).Json,
            LegacyDidDoc.Create("QUmsj7xwB82QAuuzfmvhAi", "DoDMNYwMrSN8ygGKabgz5fLA9aWV4Vi8SLX6CiyN2H4a", "http://x", ["8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"]),
        };
        var doc = sources[Math.Abs(which % sources.Length)].DeepClone();
        var slots = Slots(doc);
        var (parent, key) = slots[Math.Abs(slot % slots.Count)];
        var value = Replacements[Math.Abs(replacement % Replacements.Length)]?.DeepClone();
        if (key is string name) parent.AsObject()[name] = value;
        else parent.AsArray()[(int)key] = value;
        var text = doc.ToJsonString();
        return OnlyDidException(() => DidDocument.Parse(text).DidCommServices())
            && OnlyDidException(() => DidDocument.Parse(text).FindMethod("#key-1"));
    }

    [FsCheck.NUnit.Property(MaxTest = 300)]
    public bool Arbitrary_text_never_escapes_as_another_exception(string? text)
    {
        text ??= "";
        var resolver = new DidResolver();
        return OnlyDidException(() => DidDocument.Parse(text))
            && OnlyDidException(() => resolver.Resolve("did:peer:" + text))
            && OnlyDidException(() => resolver.Resolve("did:key:" + text))
            && OnlyDidException(() => DidPeer.Resolve("did:peer:2." + text))
            && OnlyDidException(() => DidPeer.Resolve("did:peer:4zQmb7xLdVY9TXx8oov5XgpGUmGELgqiAV2699s43i6Qdm3M:" + text));
    }
}
