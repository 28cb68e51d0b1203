using Text = System.Text.Encoding;
using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.DidComm2;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Tests.DidComm2;

/// <summary>
/// Interop with an independent implementation: SICPA didcomm-rust (npm didcomm-node 0.4.1, WASM), driven through
/// tests/interop/didcomm-node/interop.js. Every algorithm combination is checked in both directions:
/// this code packs and didcomm-rust unpacks, and didcomm-rust packs and this code unpacks.
/// Keys are fresh (seeded) X25519/Ed25519 keys of did:example:alice and did:example:bob, passed to didcomm-rust's
/// DID and secrets resolvers as JsonWebKey2020 verification methods.
/// </summary>
[NonParallelizable]
public class InteropTests
{
    private static readonly Entropy Seed = Entropy.Seeded("didcomm-v2-interop");
    private static readonly OkpKey AliceX = OkpKey.GenerateX25519("did:example:alice#key-x25519-1", Seed.Derive("alice-x"));
    private static readonly OkpKey AliceEd = OkpKey.GenerateEd25519("did:example:alice#key-ed25519-1", Seed.Derive("alice-ed"));
    private static readonly OkpKey Bob1 = OkpKey.GenerateX25519("did:example:bob#key-x25519-1", Seed.Derive("bob-1"));
    private static readonly OkpKey Bob2 = OkpKey.GenerateX25519("did:example:bob#key-x25519-2", Seed.Derive("bob-2"));
    private static readonly OkpKey[] BobKeys = [Bob1, Bob2];

    private static readonly Dictionary<string, OkpKey> All = new[] { AliceX, AliceEd, Bob1, Bob2 }.ToDictionary(k => k.Kid);

    [OneTimeSetUp]
    public void InstallOnce() => NodeInterop.Require();

    private static JsonObject Message(string id) => new()
    {
        ["id"] = id,
        ["typ"] = MediaTypes.Plain,
        ["type"] = "https://didcomm.org/trust_ping/2.0/ping",
        ["from"] = "did:example:alice",
        ["to"] = new JsonArray("did:example:bob"),
        ["created_time"] = 1516269022,
        ["body"] = new JsonObject { ["response_requested"] = true, ["note"] = "héllo ✓" },
    };

    /// <summary>The keys as interop.js wants them; secrets only for the party whose role needs them.</summary>
    private static JsonArray Keys(params OkpKey[] withSecrets)
    {
        var arr = new JsonArray();
        foreach (var k in All.Values)
        {
            var o = new JsonObject { ["kid"] = k.Kid, ["crv"] = k.Crv, ["x"] = Base64Url.Encode(k.Public) };
            if (withSecrets.Contains(k)) o["d"] = Base64Url.Encode(k.Secret!);
            arr.Add(o);
        }
        return arr;
    }

    private static JsonObject Ok(JsonObject result)
    {
        Assert.That((bool?)result["ok"], Is.True, "didcomm-node: " + result.ToJsonString());
        return result;
    }

    private static void AssertSameMessage(JsonNode? got, JsonObject expected) =>
        Assert.That(JsonNode.DeepEquals(got, expected), Is.True, $"message differs: {got?.ToJsonString()} vs {expected.ToJsonString()}");

    private static byte[] Utf8(JsonObject o) => Text.UTF8.GetBytes(o.ToJsonString());

    private static OkpKey? Mine(string kid, params OkpKey[] held) => held.FirstOrDefault(k => k.Kid == kid);

    private static OkpKey? Public(string kid) => All.GetValueOrDefault(kid)?.PublicOnly();

    // ------------------------------------------------------------------ anoncrypt

    [TestCase(ContentAlg.A256CbcHs512, "A256cbcHs512EcdhEsA256kw")]
    [TestCase(ContentAlg.A256Gcm, "A256gcmEcdhEsA256kw")]
    [TestCase(ContentAlg.XC20P, "Xc20pEcdhEsA256kw")]
    public void Anoncrypt_packed_here_is_unpacked_by_didcomm_rust(ContentAlg enc, string rustName)
    {
        var msg = Message("anon-cs-" + rustName);
        var jwe = Jwe.AnonEncrypt(Utf8(msg), BobKeys, enc, Seed.Derive("anon-cs-" + rustName));
        var result = Ok(NodeInterop.Run(new JsonObject { ["op"] = "unpack", ["packed"] = jwe, ["keys"] = Keys(Bob1, Bob2) }));
        AssertSameMessage(result["message"], msg);
        var meta = result["metadata"]!;
        Assert.That((bool?)meta["encrypted"], Is.True);
        Assert.That((bool?)meta["anonymous_sender"], Is.True);
        Assert.That((bool?)meta["authenticated"], Is.False);
        Assert.That((string?)meta["enc_alg_anon"], Is.EqualTo(rustName));
    }

    [TestCase(ContentAlg.A256CbcHs512, "A256cbcHs512EcdhEsA256kw")]
    [TestCase(ContentAlg.A256Gcm, "A256gcmEcdhEsA256kw")]
    [TestCase(ContentAlg.XC20P, "Xc20pEcdhEsA256kw")]
    public void Anoncrypt_packed_by_didcomm_rust_is_decrypted_here(ContentAlg enc, string rustName)
    {
        var msg = Message("anon-rs-" + rustName);
        var packed = Ok(NodeInterop.Run(new JsonObject
        {
            ["op"] = "pack_anon", ["message"] = msg, ["to"] = "did:example:bob", ["enc"] = rustName, ["keys"] = Keys(),
        }));
        var jwe = (string)packed["packed"]!;
        // didcomm-rust encrypts to every keyAgreement key of did:example:bob; each of Bob's keys must open it.
        foreach (var bob in BobKeys)
        {
            var d = Jwe.Decrypt(jwe, kid => Mine(kid, bob), Public);
            Assert.That(d.Alg, Is.EqualTo(Jwe.AlgAnoncrypt));
            Assert.That(d.Enc, Is.EqualTo(ContentEncryption.Name(enc)));
            Assert.That(d.RecipientKid, Is.EqualTo(bob.Kid));
            Assert.That(d.SenderKid, Is.Null);
            AssertSameMessage(JsonNode.Parse(d.Plaintext), msg);
        }
    }

    // ------------------------------------------------------------------ authcrypt

    [Test]
    public void Authcrypt_packed_here_is_unpacked_by_didcomm_rust()
    {
        var msg = Message("auth-cs");
        var jwe = Jwe.AuthEncrypt(Utf8(msg), AliceX, BobKeys, Seed.Derive("auth-cs"));
        var result = Ok(NodeInterop.Run(new JsonObject { ["op"] = "unpack", ["packed"] = jwe, ["keys"] = Keys(Bob1, Bob2) }));
        AssertSameMessage(result["message"], msg);
        var meta = result["metadata"]!;
        Assert.That((bool?)meta["encrypted"], Is.True);
        Assert.That((bool?)meta["authenticated"], Is.True);
        Assert.That((bool?)meta["anonymous_sender"], Is.False);
        Assert.That((string?)meta["encrypted_from_kid"], Is.EqualTo(AliceX.Kid));
        Assert.That((string?)meta["enc_alg_auth"], Is.EqualTo("A256cbcHs512Ecdh1puA256kw"));
    }

    [Test]
    public void Authcrypt_packed_by_didcomm_rust_is_decrypted_here()
    {
        var msg = Message("auth-rs");
        var packed = Ok(NodeInterop.Run(new JsonObject
        {
            ["op"] = "pack_auth", ["message"] = msg, ["to"] = "did:example:bob", ["from"] = "did:example:alice", ["keys"] = Keys(AliceX),
        }));
        var jwe = (string)packed["packed"]!;
        foreach (var bob in BobKeys)
        {
            var d = Jwe.Decrypt(jwe, kid => Mine(kid, bob), Public);
            Assert.That(d.Alg, Is.EqualTo(Jwe.AlgAuthcrypt));
            Assert.That(d.Enc, Is.EqualTo("A256CBC-HS512"));
            Assert.That(d.SenderKid, Is.EqualTo(AliceX.Kid));
            AssertSameMessage(JsonNode.Parse(d.Plaintext), msg);
        }
        // With someone else's key standing in for Alice's, ECDH-1PU must fail.
        Assert.Throws<JoseException>(() => Jwe.Decrypt(jwe, kid => Mine(kid, Bob1), _ => Bob2.PublicOnly()));
    }

    // ------------------------------------------------------------------ anoncrypt(authcrypt) — "Protecting the Sender Identity"

    [Test]
    public void Protected_sender_packed_by_didcomm_rust_is_anoncrypt_around_authcrypt_here()
    {
        var msg = Message("protect-rs");
        var packed = Ok(NodeInterop.Run(new JsonObject
        {
            ["op"] = "pack_auth", ["message"] = msg, ["to"] = "did:example:bob", ["from"] = "did:example:alice",
            ["protect_sender"] = true, ["keys"] = Keys(AliceX),
        }));
        var outer = Jwe.Decrypt((string)packed["packed"]!, kid => Mine(kid, Bob1), Public);
        Assert.That(outer.Alg, Is.EqualTo(Jwe.AlgAnoncrypt));
        var inner = Jwe.Decrypt(Text.UTF8.GetString(outer.Plaintext), kid => Mine(kid, Bob1), Public);
        Assert.That(inner.Alg, Is.EqualTo(Jwe.AlgAuthcrypt));
        Assert.That(inner.SenderKid, Is.EqualTo(AliceX.Kid));
        AssertSameMessage(JsonNode.Parse(inner.Plaintext), msg);
    }

    [Test]
    public void Protected_sender_packed_here_is_unpacked_by_didcomm_rust()
    {
        var msg = Message("protect-cs");
        var inner = Jwe.AuthEncrypt(Utf8(msg), AliceX, BobKeys, Seed.Derive("protect-inner"));
        var outer = Jwe.AnonEncrypt(Text.UTF8.GetBytes(inner), BobKeys, ContentAlg.XC20P, Seed.Derive("protect-outer"));
        var result = Ok(NodeInterop.Run(new JsonObject { ["op"] = "unpack", ["packed"] = outer, ["keys"] = Keys(Bob1, Bob2) }));
        AssertSameMessage(result["message"], msg);
        Assert.That((bool?)result["metadata"]!["authenticated"], Is.True);
        Assert.That((bool?)result["metadata"]!["anonymous_sender"], Is.True);
        Assert.That((string?)result["metadata"]!["encrypted_from_kid"], Is.EqualTo(AliceX.Kid));
    }

    // ------------------------------------------------------------------ signed

    [Test]
    public void Signed_here_is_verified_by_didcomm_rust()
    {
        var msg = Message("signed-cs");
        var jws = Jws.Sign(Utf8(msg), AliceEd);
        var result = Ok(NodeInterop.Run(new JsonObject { ["op"] = "unpack", ["packed"] = jws, ["keys"] = Keys() }));
        AssertSameMessage(result["message"], msg);
        Assert.That((bool?)result["metadata"]!["non_repudiation"], Is.True);
        Assert.That((string?)result["metadata"]!["sign_from"], Is.EqualTo(AliceEd.Kid));
        Assert.That((string?)result["metadata"]!["sign_alg"], Is.EqualTo("EdDSA"));
    }

    [Test]
    public void Signed_by_didcomm_rust_is_verified_here()
    {
        var msg = Message("signed-rs");
        var packed = Ok(NodeInterop.Run(new JsonObject
        {
            ["op"] = "pack_signed", ["message"] = msg, ["sign_by"] = AliceEd.Kid, ["keys"] = Keys(AliceEd),
        }));
        var v = Jws.Verify((string)packed["packed"]!, Public);
        Assert.That(v.Kid, Is.EqualTo(AliceEd.Kid));
        Assert.That(v.Alg, Is.EqualTo("EdDSA"));
        Assert.That(v.Typ, Is.EqualTo(MediaTypes.Signed));
        AssertSameMessage(JsonNode.Parse(v.Payload), msg);
    }

    // ------------------------------------------------------------------ negative: didcomm-rust rejects our tampering too

    [Test]
    public void Didcomm_rust_rejects_a_ciphertext_tampered_here()
    {
        var jwe = JsonNode.Parse(Jwe.AuthEncrypt(Utf8(Message("tamper")), AliceX, BobKeys, Seed.Derive("tamper")))!.AsObject();
        var ct = Base64Url.Decode((string)jwe["ciphertext"]!);
        ct[0] ^= 1;
        jwe["ciphertext"] = Base64Url.Encode(ct);
        var result = NodeInterop.Run(new JsonObject { ["op"] = "unpack", ["packed"] = jwe.ToJsonString(), ["keys"] = Keys(Bob1, Bob2) });
        Assert.That((bool?)result["ok"], Is.False);
    }
}
