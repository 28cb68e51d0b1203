using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;
using Conformance.Wire.Messages;
using Conformance.Wire.Signatures;
using FsCheck;
using FsCheck.Fluent;

namespace Conformance.Wire.Tests.Signatures;

public class AttachmentJwsTests
{
    private static string B64Url(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    private static string B64Url(string s) => B64Url(System.Text.Encoding.UTF8.GetBytes(s));
    private static string B64Std(string s) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(s));
    private static string DidKey(Ed25519KeyPair k) => "did:key:" + Multibase.EncodeKey(KeyCodec.Ed25519Pub, k.PublicKey);

    // ---- Credo's known answers --------------------------------------------------------------------------------
    // Source: openwallet-foundation/credo-ts packages/core/src/crypto/__tests__/__fixtures__/didJwsz6Mkf.ts and
    // didJwsz6Mkv.ts (JwsService.test.ts expects createJws to produce exactly these). payload = JsonEncoder.toBase64URL
    // (DATA_JSON) = base64url(JSON.stringify(DATA_JSON)); keys: Ed25519 seeds "...My2" / "...My1" (ASCII).
    private const string CredoDataJson =
        """{"did":"did","did_doc":{"@context":"https://w3id.org/did/v1","service":[{"id":"did:example:123456789abcdefghi#did-communication","type":"did-communication","priority":0,"recipientKeys":["someVerkey"],"routingKeys":[],"serviceEndpoint":"https://agent.example.com/"}]}}""";

    private static readonly JsonObject CredoMkf = new()
    {
        ["header"] = new JsonObject { ["kid"] = "did:key:z6MkfD6ccYE22Y9pHKtixeczk92MmMi2oJCP6gmNooZVKB9A" },
        ["protected"] = "eyJhbGciOiJFZERTQSIsImp3ayI6eyJrdHkiOiJPS1AiLCJjcnYiOiJFZDI1NTE5IiwieCI6IkN6cmtiNjQ1MzdrVUVGRkN5SXI4STgxUWJJRGk2MnNrbU41Rm41LU1zVkUifX0",
        ["signature"] = "OsDP4FM8792J9JlessA9IXv4YUYjIGcIAnPPrEJmgxYomMwDoH-h2DMAF5YF2VtsHHyhGN_0HryDjWSEAZdYBQ",
    };
    private const string CredoMkfVerkey = "kqa2HyagzfMAq42H5f9u3UMwnSBPQx2QfrSyXbUPxMn";

    private static readonly JsonObject CredoMkv = new()
    {
        ["protected"] = "eyJhbGciOiJFZERTQSIsImp3ayI6eyJrdHkiOiJPS1AiLCJjcnYiOiJFZDI1NTE5IiwieCI6IjZjWjJiWkttS2lVaUY5TUxLQ1Y4SUlZSUVzT0xIc0pHNXFCSjlTclFZQmsifX0",
        ["signature"] = "Js_ibaz24b4GRikbGPeLvRe5FyrcVR2aNVZSs26CLl3DCMJdPqUNRxVDNOD-dBnLs0HyTh6_mX9cG9vWEimtBA",
        ["header"] = new JsonObject { ["kid"] = "did:key:z6MkvBpZTRb7tjuUF5AkmhG1JDV928hZbg5KAQJcogvhz9ax" },
    };
    private const string CredoMkvVerkey = "GjZWsBLgZCR18aL468JAT7w9CZRiBnpxUPPgyQxh4voa";

    [Test]
    public void Verifies_Credos_known_answer_JWSs()
    {
        Assert.That(AttachmentJws.Verify(CredoMkf, B64Url(CredoDataJson)), Is.EqualTo(CredoMkfVerkey));
        Assert.That(AttachmentJws.Verify(CredoMkv, B64Url(CredoDataJson)), Is.EqualTo(CredoMkvVerkey));
    }

    [Test]
    public void Credos_construction_reproduces_its_fixture_signature()
    {
        // Following JwsService.createJwsBase with the fixture seed gives the fixture signature: this pins down the
        // signing input (protected + "." + base64url(payload)) this file's hand-built Credo forms rely on.
        var key = Ed25519KeyPair.FromSeed("00000000000000000000000000000My2"u8);
        Assert.That(key.Verkey, Is.EqualTo(CredoMkfVerkey));
        var input = System.Text.Encoding.ASCII.GetBytes(CredoMkf["protected"]!.GetValue<string>() + "." + B64Url(CredoDataJson));
        Assert.That(B64Url(key.Sign(input)), Is.EqualTo(CredoMkf["signature"]!.GetValue<string>()));
    }

    [Test]
    public void Verifies_Credos_general_serialization_with_several_signers()
    {
        // Attachment.addJws turns a second signature into {"signatures":[...]}.
        var general = new JsonObject { ["signatures"] = new JsonArray(CredoMkf.DeepClone(), CredoMkv.DeepClone()) };
        Assert.That(AttachmentJws.VerifyAll(general, B64Url(CredoDataJson)), Is.EqualTo(new[] { CredoMkfVerkey, CredoMkvVerkey }));
        Assert.That(AttachmentJws.Verify(general, B64Url(CredoDataJson)), Is.EqualTo(CredoMkfVerkey));
        // One bad entry fails the whole JWS.
        var oneBad = (JsonObject)general.DeepClone();
        oneBad["signatures"]![1]!["signature"] = CredoMkf["signature"]!.GetValue<string>();
        Assert.Throws<SignatureException>(() => AttachmentJws.VerifyAll(oneBad, B64Url(CredoDataJson)));
    }

    // ---- Credo 0.6 did_rotate~attach, built by following DidExchangeProtocol.createSignedAttachment ------------
    // data.base64 = TypedArrayEncoder.toBase64URL(Buffer.from(did)) (unpadded base64url); JwsService.createJws with
    // header {kid: did:key}, protectedHeaderOptions {alg: EdDSA, jwk: signingKey} where signingKey.keyId was set to
    // kmsKeyId ?? legacyKeyId, so protected.jwk gains "kid": <base58 verkey or KMS id> (PublicJwk.toJson includes kid).
    private static readonly Ed25519KeyPair CredoKey = Ed25519KeyPair.FromSeed(SHA256.HashData("test key: credo 0.6 invitation key"u8));

    private static JsonObject Credo06Jws(Ed25519KeyPair key, byte[] payload, string jwkKid)
    {
        var protectedJson = $$$"""{"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"{{{B64Url(key.PublicKey)}}}","kid":"{{{jwkKid}}}"}}""";
        var protectedB64 = B64Url(protectedJson);
        var signature = key.Sign(System.Text.Encoding.ASCII.GetBytes(protectedB64 + "." + B64Url(payload)));
        return new JsonObject
        {
            ["protected"] = protectedB64,
            ["signature"] = B64Url(signature),
            ["header"] = new JsonObject { ["kid"] = DidKey(key) },
        };
    }

    [TestCase("legacy key id (base58 verkey)")]
    [TestCase("0b1f6c5e-7a52-4d3b-9b8a-2f4c1e9d7a60")]
    public void Verifies_a_Credo_0_6_did_rotate_attachment(string jwkKidKind)
    {
        var did = "did:peer:4zQmXpF5bmrj1Bv2ksdgKRKp9sjzHAGf4WwD8fMmMJKKbwDq";
        var jwkKid = jwkKidKind.StartsWith("legacy") ? CredoKey.Verkey : jwkKidKind;
        var jws = Credo06Jws(CredoKey, System.Text.Encoding.UTF8.GetBytes(did), jwkKid);
        Assert.That(AttachmentJws.Verify(jws, B64Url(did)), Is.EqualTo(CredoKey.Verkey));
    }

    [Test]
    public void Verifies_a_Credo_did_doc_attachment_carried_as_standard_padded_base64()
    {
        // Credo's did_doc~attach data.base64 is JsonEncoder.toBase64(didDocument) (standard alphabet, padded) while the
        // JWS signs base64url(bytes); its verifier converts with base64ToBase64URL. (The fixture payload above happens
        // to encode identically in both alphabets, so this uses a document whose encodings differ.)
        var doc = """{"@context":["https://www.w3.org/ns/did/v1"],"id":"did:peer:1zQmZ?>~","authentication":["#key-1"]}""";
        var std = B64Std(doc);
        Assert.That(std, Does.Contain("+").Or.Contain("/"), "the document is chosen so that the alphabets differ");
        Assert.That(std, Does.EndWith("="), "and so that there is padding");
        var jws = Credo06Jws(CredoKey, System.Text.Encoding.UTF8.GetBytes(doc), CredoKey.Verkey);
        Assert.That(AttachmentJws.Verify(jws, std), Is.EqualTo(CredoKey.Verkey));
        Assert.That(AttachmentJws.Verify(jws, B64Url(doc)), Is.EqualTo(CredoKey.Verkey));
    }

    // ---- ACA-Py, built by following attach_decorator.py AttachDecoratorData.sign -----------------------------
    // data.base64 = bytes_to_b64(json.dumps(mapping).encode()) (standard, padded; json.dumps spacing);
    // protected = str_to_b64(json.dumps({"alg": "EdDSA", "jwk": {"kty": "OKP", "crv": "Ed25519", "x": ..., "kid": did_key}}),
    // urlsafe=True, pad=False); signing input = protected + "." + unpad(set_urlsafe_b64(base64)); header = {"kid": did_key}.
    // ACA-Py before 0.11 also put a top-level "kid" in the protected header.
    private static readonly Ed25519KeyPair AcaPyKey = Ed25519KeyPair.FromSeed(SHA256.HashData("test key: aca-py did key"u8));

    private const string AcaPyDidDoc =
        """{"@context": "https://w3id.org/did/v1", "id": "did:sov:LjgpST2rjsoxYegQDRm7EL", "publicKey": [{"id": "did:sov:LjgpST2rjsoxYegQDRm7EL#1", "type": "Ed25519VerificationKey2018", "controller": "did:sov:LjgpST2rjsoxYegQDRm7EL", "publicKeyBase58": "~?>"}]}""";

    private static JsonObject AcaPyJws(Ed25519KeyPair key, string base64, bool oldTopLevelKid = false)
    {
        var kid = DidKey(key);
        var top = oldTopLevelKid ? $"\"kid\": \"{kid}\", " : "";
        var protectedJson = $$$"""{"alg": "EdDSA", {{{top}}}"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "{{{B64Url(key.PublicKey)}}}", "kid": "{{{kid}}}"}}""";
        var protectedB64 = B64Url(protectedJson);
        var payload = base64.Replace('+', '-').Replace('/', '_').TrimEnd('=');
        var signature = key.Sign(System.Text.Encoding.ASCII.GetBytes(protectedB64 + "." + payload));
        return new JsonObject
        {
            ["header"] = new JsonObject { ["kid"] = kid },
            ["protected"] = protectedB64,
            ["signature"] = B64Url(signature),
        };
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Verifies_an_ACA_Py_did_doc_attachment(bool oldTopLevelKid)
    {
        var base64 = B64Std(AcaPyDidDoc);
        Assert.That(base64, Does.Contain("+").Or.Contain("/"), "the test needs a payload that exercises the alphabet swap");
        Assert.That(AttachmentJws.Verify(AcaPyJws(AcaPyKey, base64, oldTopLevelKid), base64), Is.EqualTo(AcaPyKey.Verkey));
    }

    [Test]
    public void Verifies_an_ACA_Py_multi_signature_attachment()
    {
        var base64 = B64Std(AcaPyDidDoc);
        var general = new JsonObject { ["signatures"] = new JsonArray(AcaPyJws(AcaPyKey, base64), AcaPyJws(CredoKey, base64)) };
        Assert.That(AttachmentJws.VerifyAll(general, base64), Is.EqualTo(new[] { AcaPyKey.Verkey, CredoKey.Verkey }));
    }

    // ---- our own Sign ------------------------------------------------------------------------------------------
    [TestCase(AcaPyDidDoc, true)]
    [TestCase("did:peer:2.Ez6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc", false)]
    public void Sign_then_verify_round_trips_for_both_payload_forms(string content, bool standardBase64)
    {
        var base64 = standardBase64 ? B64Std(content) : B64Url(content);
        var jws = AttachmentJws.Sign(base64, AcaPyKey);
        Assert.That(AttachmentJws.Verify(jws, base64), Is.EqualTo(AcaPyKey.Verkey));
        // The same bytes in the other base64 form verify too.
        Assert.That(AttachmentJws.Verify(jws, standardBase64 ? B64Url(content) : B64Std(content)), Is.EqualTo(AcaPyKey.Verkey));
    }

    [Test]
    public void Sign_output_satisfies_both_Credos_and_ACA_Pys_verifier_rules()
    {
        var jws = AttachmentJws.Sign(B64Std(AcaPyDidDoc), AcaPyKey);
        // Credo: header.kid must be a did:key (allowedJwsSignerMethods ['did']); alg must suit the key.
        Assert.That(jws["header"]!["kid"]!.GetValue<string>(), Is.EqualTo(DidKey(AcaPyKey)));
        var prot = JsonNode.Parse(Base64Url.Decode(jws["protected"]!.GetValue<string>()))!;
        Assert.That(prot["alg"]!.GetValue<string>(), Is.EqualTo("EdDSA"));
        // ACA-Py: "jwk" in protected with kty OKP; x is the key; jwk.kid (if present) is a did:key of the same key.
        Assert.That(prot["jwk"]!["kty"]!.GetValue<string>(), Is.EqualTo("OKP"));
        Assert.That(prot["jwk"]!["crv"]!.GetValue<string>(), Is.EqualTo("Ed25519"));
        Assert.That(Base64Url.Decode(prot["jwk"]!["x"]!.GetValue<string>()), Is.EqualTo(AcaPyKey.PublicKey));
        Assert.That(prot["jwk"]!["kid"]!.GetValue<string>(), Is.EqualTo(DidKey(AcaPyKey)));
        Assert.That(prot["kid"]!.GetValue<string>(), Is.EqualTo(DidKey(AcaPyKey)));
        // JOSE: unpadded base64url everywhere.
        Assert.That(jws["protected"]!.GetValue<string>() + jws["signature"]!.GetValue<string>(), Does.Not.Contain("="));
        // ACA-Py's signing input is built from the attachment text: check the signature against it independently.
        var input = jws["protected"]!.GetValue<string>() + "." + B64Std(AcaPyDidDoc).Replace('+', '-').Replace('/', '_').TrimEnd('=');
        Assert.That(Ed25519KeyPair.Verify(Base64Url.Decode(jws["signature"]!.GetValue<string>()), System.Text.Encoding.ASCII.GetBytes(input), AcaPyKey.PublicKey), Is.True);
    }

    [Test]
    public void Verify_attachment_overload_uses_data_base64_and_data_jws()
    {
        var att = Attachment.FromBytes(System.Text.Encoding.UTF8.GetBytes(CredoDataJson), "d2ab6f2b", "application/json") with { Jws = CredoMkf };
        Assert.That(AttachmentJws.Verify(att), Is.EqualTo(CredoMkfVerkey));
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(att with { Jws = null }));
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(att with { Base64 = null }));
    }

    // ---- rejection ----------------------------------------------------------------------------------------------
    [Test]
    public void Changed_payload_is_rejected()
        => Assert.That(Assert.Throws<SignatureException>(() => AttachmentJws.Verify(CredoMkf, B64Url(CredoDataJson.Replace("did:example", "did:evil"))))!.Message,
            Does.Contain("does not verify"));

    [Test]
    public void A_kid_naming_another_key_than_the_jwk_is_rejected()
    {
        var jws = (JsonObject)CredoMkf.DeepClone();
        jws["header"]!["kid"] = DidKey(CredoKey);
        Assert.That(Assert.Throws<SignatureException>(() => AttachmentJws.Verify(jws, B64Url(CredoDataJson)))!.Message, Does.Contain("different key"));
    }

    [Test]
    public void A_did_key_header_alone_is_enough_and_other_kids_alone_are_not()
    {
        // RFC 0017's minimal form: {"alg":"EdDSA"} protected, did:key in the unprotected header.
        var protectedB64 = B64Url("""{"alg":"EdDSA"}""");
        var payload = B64Url("B.did@B:A");
        var sig = B64Url(CredoKey.Sign(System.Text.Encoding.ASCII.GetBytes(protectedB64 + "." + payload)));
        var minimal = new JsonObject { ["header"] = new JsonObject { ["kid"] = DidKey(CredoKey) + "#" + DidKey(CredoKey)[8..] }, ["protected"] = protectedB64, ["signature"] = sig };
        Assert.That(AttachmentJws.Verify(minimal, payload), Is.EqualTo(CredoKey.Verkey));

        var unresolvable = (JsonObject)minimal.DeepClone();
        unresolvable["header"]!["kid"] = "did:sov:LjgpST2rjsoxYegQDRm7EL#keys-1";
        Assert.That(Assert.Throws<SignatureException>(() => AttachmentJws.Verify(unresolvable, payload))!.Message, Does.Contain("no signer key"));

        var wrongFragment = (JsonObject)minimal.DeepClone();
        wrongFragment["header"]!["kid"] = DidKey(CredoKey) + "#" + DidKey(AcaPyKey)[8..];
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(wrongFragment, payload));

        var x25519 = (JsonObject)minimal.DeepClone();
        x25519["header"]!["kid"] = "did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc";
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(x25519, payload));
    }

    private static JsonObject WithProtected(string protectedJson, Ed25519KeyPair key, string payload)
    {
        var protectedB64 = B64Url(protectedJson);
        return new JsonObject
        {
            ["header"] = new JsonObject { ["kid"] = DidKey(key) },
            ["protected"] = protectedB64,
            ["signature"] = B64Url(key.Sign(System.Text.Encoding.ASCII.GetBytes(protectedB64 + "." + payload))),
        };
    }

    [TestCase("""{"alg":"none"}""", "alg")]
    [TestCase("""{"alg":"ES256"}""", "alg")]
    [TestCase("""{"alg":"EdDSA","crit":["b64"],"b64":false}""", "crit")]
    [TestCase("""{"kid":"x"}""", "alg")]
    [TestCase("""{"alg":"EdDSA","jwk":{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}}""", "OKP")]
    [TestCase("""{"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"AAAA"}}""", "32-byte")]
    [TestCase("""{"alg":"EdDSA","jwk":"z6Mk"}""", "jwk")]
    [TestCase("""{"alg":"EdDSA","kid":5}""", "kid")]
    [TestCase("[1,2]", "JSON object")]
    public void Bad_protected_headers_are_rejected_even_when_correctly_signed(string protectedJson, string expected)
    {
        var payload = B64Url("B.did@B:A");
        var e = Assert.Throws<SignatureException>(() => AttachmentJws.Verify(WithProtected(protectedJson, CredoKey, payload), payload));
        Assert.That(e!.Message, Does.Contain(expected));
    }

    [Test]
    public void A_jwk_carrying_a_private_key_is_refused()
    {
        var payload = B64Url("B.did@B:A");
        var p = $$$"""{"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"{{{B64Url(CredoKey.PublicKey)}}}","d":"{{{B64Url(new byte[32])}}}"}}""";
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(WithProtected(p, CredoKey, payload), payload));
    }

    [Test]
    public void Structural_problems_are_rejected()
    {
        var payload = B64Url(CredoDataJson);
        JsonObject Mutate(Action<JsonObject> change) { var j = (JsonObject)CredoMkf.DeepClone(); change(j); return j; }

        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(Mutate(j => j.Remove("protected")), payload));
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(Mutate(j => j.Remove("signature")), payload));
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(Mutate(j => j["protected"] = "%%%"), payload));
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(Mutate(j => j["protected"] = B64Url("not json")), payload));
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(Mutate(j => j["signature"] = "!!"), payload));
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(Mutate(j => j["header"] = "did:key"), payload));
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(Mutate(j => j["signatures"] = new JsonArray()), payload));
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(new JsonObject { ["signatures"] = new JsonArray() }, payload));
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(new JsonObject { ["signatures"] = new JsonArray(1) }, payload));
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(new JsonObject { ["signatures"] = "x" }, payload));
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(Mutate(j => j["payload"] = B64Url("other")), payload));
        Assert.DoesNotThrow(() => AttachmentJws.Verify(Mutate(j => j["payload"] = payload), payload), "a matching attached payload is fine");
        Assert.Throws<SignatureException>(() => AttachmentJws.Verify(CredoMkf, "not base64 !"));
        Assert.Throws<SignatureException>(() => AttachmentJws.Sign("not base64 !", CredoKey));
    }

    [Test]
    public void Property_mutated_JWS_throws_only_SignatureException()
    {
        var values = Gen.Elements<JsonNode?>(null, 1, "", "x", "eyJhbGciOiJFZERTQSJ9", "did:key:z6Mk", "did:key:z6MkfD6ccYE22Y9pHKtixeczk92MmMi2oJCP6gmNooZVKB9A#x",
            true, new JsonArray(), new JsonObject(), new JsonObject { ["kid"] = 3 }, new JsonObject { ["kid"] = "did:key:zzz" },
            new JsonArray(new JsonObject()), B64Url("""{"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519"}}"""));
        var members = Gen.Elements("protected", "signature", "header", "signatures", "payload");
        var gen = from m in members from v in values from payload in Gen.Elements(B64Url(CredoDataJson), "", "A", "===", "AA==AA") select (m, v, payload);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var j = (JsonObject)CredoMkf.DeepClone();
            j[t.m] = t.v?.DeepClone();
            try { AttachmentJws.VerifyAll(j, t.payload); return true; }
            catch (SignatureException) { return true; }
        }).QuickCheckThrowOnFailure();
    }
}
