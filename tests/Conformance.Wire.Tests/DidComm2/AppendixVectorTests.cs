using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Conformance.Wire.DidComm2;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Tests.DidComm2;

/// <summary>
/// The DIDComm Messaging v2 spec's Appendix (shared/specs/didcomm-v2/appendix.md): A (secrets), B (DID docs), C.1 plaintext,
/// C.2 signed and C.3 encrypted test vectors, read straight from the markdown.
/// In scope: X25519 (ECDH-ES and ECDH-1PU) and Ed25519 (EdDSA). The NIST-curve and secp256k1 examples are out of scope for
/// this OKP-only implementation; they are asserted to be refused with a clear JoseException, not silently skipped.
/// </summary>
public class AppendixVectorTests
{
    internal sealed class Appendix
    {
        public required List<JsonObject> Secrets { get; init; }
        public required List<JsonObject> DidDocs { get; init; }
        public required JsonObject Plaintext { get; init; }
        public required List<string> Signed { get; init; }
        public required List<string> Encrypted { get; init; }

        /// <summary>Appendix A secrets that are OKP keys. (A.2 spells the member "kid " with a trailing space; it is trimmed.)</summary>
        public Dictionary<string, OkpKey> OkpSecrets => Secrets
            .Where(s => (string?)s["kty"] == "OKP")
            .Select(s => OkpKey.FromJwk(s.ToJsonString(), KidOf(s)))
            .ToDictionary(k => k.Kid);

        /// <summary>Appendix B verification methods whose publicKeyJwk is OKP.</summary>
        public Dictionary<string, OkpKey> OkpPublics => DidDocs
            .SelectMany(d => new[] { "authentication", "keyAgreement" }.SelectMany(rel => d[rel]?.AsArray() ?? []))
            .OfType<JsonObject>()
            .Where(vm => (string?)vm["publicKeyJwk"]?["kty"] == "OKP")
            .Select(vm => OkpKey.FromJwk(vm["publicKeyJwk"]!.ToJsonString(), (string)vm["id"]!))
            .ToDictionary(k => k.Kid);

        private static string KidOf(JsonObject s) =>
            s.Where(p => p.Key.Trim() == "kid").Select(p => (string)p.Value!).Single();
    }

    internal static Appendix Load()
    {
        var md = File.ReadAllText(Path.Combine(TestPaths.Shared, "specs", "didcomm-v2", "appendix.md"));
        var blocks = Regex.Matches(md, "```json\\n(.*?)```", RegexOptions.Singleline).Select(m => JsonNode.Parse(m.Groups[1].Value)!).ToList();
        var secrets = blocks.OfType<JsonArray>().SelectMany(a => a.OfType<JsonObject>()).ToList();
        var objects = blocks.OfType<JsonObject>().ToList();
        return new Appendix
        {
            Secrets = secrets,
            DidDocs = objects.Where(o => o.ContainsKey("keyAgreement")).ToList(),
            Plaintext = objects.Single(o => o.ContainsKey("body") && o.ContainsKey("id")),
            Signed = objects.Where(o => o.ContainsKey("signatures")).Select(o => o.ToJsonString()).ToList(),
            Encrypted = objects.Where(o => o.ContainsKey("ciphertext")).Select(o => o.ToJsonString()).ToList(),
        };
    }

    private static readonly Appendix A = Load();

    private static JsonObject ProtectedOf(string jose, bool signed = false)
    {
        var o = JsonNode.Parse(jose)!.AsObject();
        var b64 = signed ? (string)o["signatures"]![0]!["protected"]! : (string)o["protected"]!;
        return JsonNode.Parse(Base64Url.Decode(b64))!.AsObject();
    }

    /// <summary>
    /// The encrypted and signed payloads are C.1 with two differences that are the spec's, not ours: they carry
    /// "typ":"application/didcomm-plain+json" (visible in C.2's JWS payload), and their "type" is
    /// "http://example.com/..." where C.1's prose shows "https://example.com/...". Everything else must be equal as JSON.
    /// </summary>
    private static void AssertIsTheC1Plaintext(byte[] payload)
    {
        var got = JsonNode.Parse(payload)!.AsObject();
        Assert.That((string?)got["typ"], Is.EqualTo(MediaTypes.Plain));
        Assert.That((string?)got["type"], Is.EqualTo("http://example.com/protocols/lets_do_lunch/1.0/proposal"));
        var expected = A.Plaintext.DeepClone().AsObject();
        Assert.That((string?)expected["type"], Is.EqualTo("https://example.com/protocols/lets_do_lunch/1.0/proposal"));
        got.Remove("typ");
        got.Remove("type");
        expected.Remove("type");
        Assert.That(JsonNode.DeepEquals(got, expected), Is.True, "decrypted message differs from Appendix C.1: " + got.ToJsonString());
    }

    [Test]
    public void Appendix_has_the_expected_vectors()
    {
        Assert.That(A.Encrypted, Has.Count.EqualTo(6));
        Assert.That(A.Signed, Has.Count.EqualTo(3));
        Assert.That(A.OkpSecrets.Keys, Is.SupersetOf(new[]
        {
            "did:example:alice#key-1", "did:example:alice#key-x25519-1",
            "did:example:bob#key-x25519-1", "did:example:bob#key-x25519-2", "did:example:bob#key-x25519-3",
        }));
        // Appendix A secrets and Appendix B public keys agree (OkpKey also checks d against x).
        foreach (var (kid, pub) in A.OkpPublics)
            if (A.OkpSecrets.TryGetValue(kid, out var sec)) Assert.That(sec.Public, Is.EqualTo(pub.Public), kid);
    }

    [Test]
    public void Apv_rule_reproduces_the_appendix_apv_for_Bobs_X25519_keys()
    {
        // C.3's X25519 examples carry apv NcsuAnrRfPK69A-rkZ0L9XWUG4jMvNC3Zg74BPz53PA for Bob's three X25519 kids.
        var kids = new[] { "did:example:bob#key-x25519-3", "did:example:bob#key-x25519-1", "did:example:bob#key-x25519-2" };
        Assert.That(Jwe.Apv(kids), Is.EqualTo("NcsuAnrRfPK69A-rkZ0L9XWUG4jMvNC3Zg74BPz53PA"));
        Assert.That((string?)ProtectedOf(A.Encrypted[0])["apv"], Is.EqualTo(Jwe.Apv(kids)));
    }

    private static IEnumerable<TestCaseData> X25519Examples() =>
        Load().Encrypted.Select((jwe, i) => (jwe, i, p: ProtectedOf(jwe)))
            .Where(x => (string?)x.p["epk"]?["crv"] == "X25519")
            .Select(x => new TestCaseData(x.i, x.jwe).SetName($"Appendix_C3_example_{x.i + 1}_{x.p["alg"]}_{x.p["enc"]}_decrypts_for_every_recipient"));

    [TestCaseSource(nameof(X25519Examples))]
    public void Appendix_C3_X25519_example_decrypts_for_every_recipient(int index, string jwe)
    {
        var prot = ProtectedOf(jwe);
        var kids = JsonNode.Parse(jwe)!["recipients"]!.AsArray().Select(r => (string)r!["header"]!["kid"]!).ToList();
        Assert.That(kids, Has.Count.EqualTo(3));
        foreach (var kid in kids)
        {
            // Only this recipient's key is available, so this recipient's encrypted_key is the one used.
            var result = Jwe.Decrypt(jwe,
                k => k == kid ? A.OkpSecrets[k] : null,
                skid => A.OkpPublics.GetValueOrDefault(skid)?.PublicOnly());
            Assert.That(result.RecipientKid, Is.EqualTo(kid));
            Assert.That(result.Alg, Is.EqualTo((string)prot["alg"]!));
            Assert.That(result.Enc, Is.EqualTo((string)prot["enc"]!));
            Assert.That(result.SenderKid, Is.EqualTo(result.Alg == Jwe.AlgAuthcrypt ? "did:example:alice#key-x25519-1" : null));
            AssertIsTheC1Plaintext(result.Plaintext);
        }
    }

    [Test]
    public void Appendix_C3_covers_anoncrypt_XC20P_and_authcrypt_A256CBC_HS512_with_X25519()
    {
        var x25519 = A.Encrypted.Select(j => ProtectedOf(j)).Where(p => (string?)p["epk"]?["crv"] == "X25519")
            .Select(p => $"{p["alg"]} {p["enc"]}").ToList();
        Assert.That(x25519, Is.EquivalentTo(new[] { "ECDH-ES+A256KW XC20P", "ECDH-1PU+A256KW A256CBC-HS512" }));
    }

    /// <summary>
    /// Out of scope (NIST curves): C.3 examples 2 (P-384 ECDH-ES A256CBC-HS512), 3 (P-521 ECDH-ES A256GCM),
    /// 5 (P-256 ECDH-1PU A256CBC-HS512, signed inside) and 6 (P-521 ECDH-ES XC20P — its prose says X25519 but its epk is P-521).
    /// They must fail cleanly with a message naming the unsupported curve.
    /// </summary>
    [Test]
    public void Appendix_C3_NIST_curve_examples_are_refused_with_a_clear_message()
    {
        var nist = A.Encrypted.Where(j => (string?)ProtectedOf(j)["epk"]?["crv"] != "X25519").ToList();
        Assert.That(nist.Select(j => (string)ProtectedOf(j)["epk"]!["crv"]!), Is.EquivalentTo(new[] { "P-384", "P-521", "P-256", "P-521" }));
        foreach (var jwe in nist)
        {
            var e = Assert.Throws<JoseException>(() => Jwe.Decrypt(jwe, _ => null, _ => null))!;
            Assert.That(e.Message, Does.Contain("out of scope").And.Contain((string)ProtectedOf(jwe)["epk"]!["crv"]!));
        }
    }

    [Test]
    public void Appendix_C2_EdDSA_signed_example_verifies()
    {
        var eddsa = A.Signed.Single(j => (string?)ProtectedOf(j, signed: true)["alg"] == "EdDSA");
        var verified = Jws.Verify(eddsa, kid => A.OkpPublics.GetValueOrDefault(kid));
        Assert.That(verified.Kid, Is.EqualTo("did:example:alice#key-1"));
        Assert.That(verified.Alg, Is.EqualTo("EdDSA"));
        Assert.That(verified.Typ, Is.EqualTo(MediaTypes.Signed));
        AssertIsTheC1Plaintext(verified.Payload);
    }

    [Test]
    public void Appendix_C2_EdDSA_example_signature_is_reproduced_by_Sign()
    {
        // Ed25519 is deterministic (RFC 8032), and Sign writes the same protected header as the appendix
        // ({"typ":"application/didcomm-signed+json","alg":"EdDSA"}), so signing the appendix payload with Alice's key-1
        // must reproduce the appendix signature byte for byte.
        var eddsa = JsonNode.Parse(A.Signed.Single(j => (string?)ProtectedOf(j, signed: true)["alg"] == "EdDSA"))!;
        var ours = JsonNode.Parse(Jws.Sign(Base64Url.Decode((string)eddsa["payload"]!), A.OkpSecrets["did:example:alice#key-1"]))!;
        Assert.That((string?)ours["payload"], Is.EqualTo((string?)eddsa["payload"]));
        Assert.That((string?)ours["signatures"]![0]!["protected"], Is.EqualTo((string?)eddsa["signatures"]![0]!["protected"]));
        Assert.That((string?)ours["signatures"]![0]!["signature"], Is.EqualTo((string?)eddsa["signatures"]![0]!["signature"]));
    }

    [Test]
    public void Appendix_C2_ES256_and_ES256K_examples_are_refused_with_a_clear_message()
    {
        foreach (var jws in A.Signed.Where(j => (string?)ProtectedOf(j, signed: true)["alg"] != "EdDSA"))
        {
            var e = Assert.Throws<JoseException>(() => Jws.Verify(jws, _ => null))!;
            Assert.That(e.Message, Does.Contain("out of scope"));
        }
    }

    [Test]
    public void Appendix_C3_authcrypt_fails_with_the_wrong_sender_key_or_a_non_recipient_key()
    {
        var auth = A.Encrypted.Single(j => (string?)ProtectedOf(j)["alg"] == Jwe.AlgAuthcrypt && (string?)ProtectedOf(j)["epk"]!["crv"] == "X25519");
        var bob1 = A.OkpSecrets["did:example:bob#key-x25519-1"];
        // Bob's own public key pretending to be Alice's: ECDH-1PU's Zs changes, so unwrapping fails.
        var e = Assert.Throws<JoseException>(() => Jwe.Decrypt(auth, k => A.OkpSecrets.GetValueOrDefault(k), _ => bob1.PublicOnly()))!;
        Assert.That(e.Message, Does.Contain("unwrap"));
        // Bob's key-2 secret offered for key-1's entry.
        Assert.Throws<JoseException>(() => Jwe.Decrypt(auth,
            k => k == "did:example:bob#key-x25519-1" ? OkpKey.X25519(k, A.OkpSecrets["did:example:bob#key-x25519-2"].Secret!) : null,
            kid => A.OkpPublics.GetValueOrDefault(kid)));
        // Nobody we know.
        Assert.Throws<JoseException>(() => Jwe.Decrypt(auth, _ => null, kid => A.OkpPublics.GetValueOrDefault(kid)));
    }
}
