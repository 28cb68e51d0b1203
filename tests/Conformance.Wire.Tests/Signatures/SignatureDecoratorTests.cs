using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;
using Conformance.Wire.Signatures;

namespace Conformance.Wire.Tests.Signatures;

public class SignatureDecoratorTests
{
    // ---- Credo's known answer --------------------------------------------------------------------------------
    // Source: openwallet-foundation/credo-ts packages/didcomm/src/decorators/signature/SignatureDecoratorUtils.test.ts.
    // Key: Ed25519 seed = ASCII "00000000000000000000000000000My1" (verkey GjZWsBLgZCR18aL468JAT7w9CZRiBnpxUPPgyQxh4voa,
    // per credo-ts crypto/__tests__/__fixtures__/didJwsz6Mkv.ts). The test mocks the timestamp to 8 zero bytes.
    private const string CredoSeed = "00000000000000000000000000000My1";
    private const string CredoVerkey = "GjZWsBLgZCR18aL468JAT7w9CZRiBnpxUPPgyQxh4voa";
    private const string CredoSignature = "TeVQ7m4v7y4Gg80JZWN50H9GjWc3XFDQJ3QpoY2kuAK1ZzX9a_7Tls-X-GI9-JLCysPKzB5EnzAy3EIPi082BA";
    private const string CredoSigData =
        "AAAAAAAAAAB7ImRpZCI6ImRpZCIsImRpZF9kb2MiOnsiQGNvbnRleHQiOiJodHRwczovL3d3dy53My5vcmcvbnMvZGlkL3YxIiwic2VydmljZSI6W3siaWQiOiJkaWQ6ZXhhbXBsZToxMjM0NTY3ODlhYmNkZWZnaGkjZGlkLWNvbW11bmljYXRpb24iLCJ0eXBlIjoiZGlkLWNvbW11bmljYXRpb24iLCJwcmlvcml0eSI6MCwicmVjaXBpZW50S2V5cyI6WyJzb21lVmVya2V5Il0sInJvdXRpbmdLZXlzIjpbXSwic2VydmljZUVuZHBvaW50IjoiaHR0cHM6Ly9hZ2VudC5leGFtcGxlLmNvbS8ifV19fQ";
    private const string CredoData = """
        {"did":"did","did_doc":{"@context":"https://www.w3.org/ns/did/v1","service":[{"id":"did:example:123456789abcdefghi#did-communication","type":"did-communication","priority":0,"recipientKeys":["someVerkey"],"routingKeys":[],"serviceEndpoint":"https://agent.example.com/"}]}}
        """;

    private static JsonObject CredoDecorator(string signature = CredoSignature) => new()
    {
        ["@type"] = "https://didcomm.org/signature/1.0/ed25519Sha512_single",
        ["signature"] = signature,
        ["sig_data"] = CredoSigData,
        ["signer"] = CredoVerkey,
    };

    [Test]
    public void Verifies_Credos_known_answer()
    {
        var v = SignatureDecorator.Verify(CredoDecorator());
        Assert.That(JsonNode.DeepEquals(v.Value, JsonNode.Parse(CredoData)), Is.True);
        Assert.That(v.SignerVerkey, Is.EqualTo(CredoVerkey));
        Assert.That(v.Timestamp, Is.EqualTo(DateTimeOffset.UnixEpoch));
    }

    [Test]
    public void Sign_reproduces_Credos_known_answer_byte_for_byte()
    {
        // Same key, same timestamp, same JSON: Ed25519 is deterministic, so sig_data and signature must be Credo's.
        var key = Ed25519KeyPair.FromSeed("00000000000000000000000000000My1"u8);
        Assert.That(key.Verkey, Is.EqualTo(CredoVerkey));
        var sig = SignatureDecorator.Sign(JsonNode.Parse(CredoData)!, key, DateTimeOffset.UnixEpoch, padded: false);
        Assert.That(sig["sig_data"]!.GetValue<string>(), Is.EqualTo(CredoSigData));
        Assert.That(sig["signature"]!.GetValue<string>(), Is.EqualTo(CredoSignature));
        Assert.That(sig["signer"]!.GetValue<string>(), Is.EqualTo(CredoVerkey));
        Assert.That(sig["@type"]!.GetValue<string>(), Is.EqualTo("https://didcomm.org/signature/1.0/ed25519Sha512_single"));
    }

    [Test]
    public void Default_padding_is_ACA_Py_style()
    {
        var key = Ed25519KeyPair.FromSeed("00000000000000000000000000000My1"u8);
        var sig = SignatureDecorator.Sign(JsonNode.Parse(CredoData)!, key, DateTimeOffset.UnixEpoch);
        // 64-byte signature -> 88 base64 characters with "==" padding; the same bytes as Credo's unpadded form.
        Assert.That(sig["signature"]!.GetValue<string>(), Is.EqualTo(CredoSignature + "=="));
        Assert.That(sig["sig_data"]!.GetValue<string>(), Does.StartWith(CredoSigData).And.EndWith("="));
    }

    [Test]
    public void Rejects_Credos_known_wrong_signature()
    {
        // From the same Credo test: a standard-base64 signature that does not match.
        const string wrong = "6sblL1+OMlTFB3KhIQ8HKKZga8te7NAJAmBVPg2WzNYjMHVjfm+LJP6ZS1GUc2FRtfczRyLEfXrXb86SnzBmBA==";
        var e = Assert.Throws<SignatureException>(() => SignatureDecorator.Verify(CredoDecorator(wrong)));
        Assert.That(e!.Message, Does.Contain("does not verify"));
    }

    // ---- ACA-Py's form, built by following signature_decorator.py with independent key material ------------
    // create(): timestamp_bin = struct.pack("!Q", int(timestamp)); msg = timestamp_bin + json.dumps(value).encode("ascii")
    //           signature = bytes_to_b64(sign(msg), urlsafe=True)  (padded); sig_data = bytes_to_b64(msg, urlsafe=True);
    //           signer = base58 verkey; @type = DIDCommPrefix.qualify_current(...) — the legacy did:sov prefix in
    //           ACA-Py before RFC 0348's switch (and still with ACA_PY_USE_OLD_DIDCOMM_PREFIX).
    private static readonly Ed25519KeyPair AcaPyKey = Ed25519KeyPair.FromSeed(SHA256.HashData("test key: aca-py signer"u8));
    private static readonly Ed25519KeyPair OtherKey = Ed25519KeyPair.FromSeed(SHA256.HashData("test key: someone else"u8));

    // json.dumps default separators (", " and ": ") — not what Sign writes, so this also shows Verify does not care.
    private const string AcaPyConnection =
        """{"DID": "QUmsj7xwB82QAuuzfmvhAi", "DIDDoc": {"@context": "https://w3id.org/did/v1", "id": "did:sov:QUmsj7xwB82QAuuzfmvhAi"}}""";

    private static string UrlSafePadded(byte[] b) => Convert.ToBase64String(b).Replace('+', '-').Replace('/', '_');

    private static JsonObject AcaPyDecorator(ulong timestamp, string json, Ed25519KeyPair key, string? type = null, Func<byte[], byte[]>? tamper = null)
    {
        var msg = new byte[8 + json.Length];
        BinaryPrimitives.WriteUInt64BigEndian(msg, timestamp);
        System.Text.Encoding.ASCII.GetBytes(json).CopyTo(msg, 8);
        var signature = key.Sign(msg);
        var sent = tamper?.Invoke(msg) ?? msg;
        return new JsonObject
        {
            ["@type"] = type ?? "did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/signature/1.0/ed25519Sha512_single",
            ["signature"] = UrlSafePadded(signature),
            ["sig_data"] = UrlSafePadded(sent),
            ["signer"] = key.Verkey,
        };
    }

    [Test]
    public void Verifies_an_ACA_Py_style_decorator_with_the_legacy_type()
    {
        var v = SignatureDecorator.Verify(AcaPyDecorator(1583888000, AcaPyConnection, AcaPyKey));
        Assert.That(JsonNode.DeepEquals(v.Value, JsonNode.Parse(AcaPyConnection)), Is.True);
        Assert.That(v.SignerVerkey, Is.EqualTo(AcaPyKey.Verkey));
        Assert.That(v.Timestamp, Is.EqualTo(DateTimeOffset.FromUnixTimeSeconds(1583888000)));
    }

    [Test]
    public void Verifies_a_string_value_as_in_ACA_Pys_own_test()
    {
        // ACA-Py test_signature_decorator.py signs the plain string "Hello world" at timestamp 1234567890.
        var v = SignatureDecorator.Verify(AcaPyDecorator(1234567890, "\"Hello world\"", AcaPyKey));
        Assert.That(v.Value.GetValue<string>(), Is.EqualTo("Hello world"));
        Assert.That(v.Timestamp.ToUnixTimeSeconds(), Is.EqualTo(1234567890));
    }

    [Test]
    public void Reads_Credos_millisecond_timestamps()
    {
        // Credo's utils/timestamp.ts writes Date.now() (milliseconds) big-endian.
        var v = SignatureDecorator.Verify(AcaPyDecorator(1_700_000_000_123, "{}", AcaPyKey));
        Assert.That(v.Timestamp, Is.EqualTo(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123)));
    }

    [Test]
    public void Accepts_a_base64url_signer_as_the_RFC_text_describes()
    {
        var d = AcaPyDecorator(1583888000, "{}", AcaPyKey);
        d["signer"] = Base64Url.Encode(AcaPyKey.PublicKey);
        Assert.That(SignatureDecorator.Verify(d).SignerVerkey, Is.EqualTo(AcaPyKey.Verkey));
    }

    // ---- round trip and tampering ----------------------------------------------------------------------------
    [Test]
    public void Sign_then_verify_round_trips()
    {
        var value = JsonNode.Parse("""{"DID":"QUmsj7xwB82QAuuzfmvhAi","label":"Zoë + Ω <tag>"}""")!;
        var when = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        foreach (var padded in new[] { true, false })
        {
            var v = SignatureDecorator.Verify(SignatureDecorator.Sign(value, AcaPyKey, when, padded));
            Assert.That(JsonNode.DeepEquals(v.Value, value), Is.True);
            Assert.That(v.SignerVerkey, Is.EqualTo(AcaPyKey.Verkey));
            Assert.That(v.Timestamp, Is.EqualTo(when));
        }
    }

    [Test]
    public void Changed_value_is_rejected()
    {
        var d = AcaPyDecorator(1583888000, """{"label": "Bob"}""", AcaPyKey,
            tamper: m => System.Text.Encoding.ASCII.GetBytes(System.Text.Encoding.ASCII.GetString(m).Replace("Bob", "Eve")));
        Assert.That(Assert.Throws<SignatureException>(() => SignatureDecorator.Verify(d))!.Message, Does.Contain("does not verify"));
    }

    [Test]
    public void Changed_timestamp_is_rejected()
    {
        var d = AcaPyDecorator(1583888000, "{}", AcaPyKey, tamper: m => { var c = (byte[])m.Clone(); c[7] ^= 1; return c; });
        Assert.Throws<SignatureException>(() => SignatureDecorator.Verify(d));
    }

    [Test]
    public void Wrong_signer_is_rejected()
    {
        var d = SignatureDecorator.Sign(JsonNode.Parse("{}")!, AcaPyKey, DateTimeOffset.UnixEpoch);
        d["signer"] = OtherKey.Verkey;
        Assert.Throws<SignatureException>(() => SignatureDecorator.Verify(d));
    }

    [TestCase("https://didcomm.org/signature/1.0/ed25519Sha256_single")]
    [TestCase("https://didcomm.org/signature/2.0/ed25519Sha512_single")]
    [TestCase("ed25519Sha512_single")]
    [TestCase("")]
    public void Wrong_type_is_rejected(string type)
    {
        var d = SignatureDecorator.Sign(JsonNode.Parse("{}")!, AcaPyKey, DateTimeOffset.UnixEpoch);
        d["@type"] = type;
        Assert.That(Assert.Throws<SignatureException>(() => SignatureDecorator.Verify(d))!.Message, Does.Contain("unsupported ~sig type"));
    }

    [Test]
    public void The_type_is_not_signed_so_either_prefix_verifies()
    {
        var d = SignatureDecorator.Sign(JsonNode.Parse("{}")!, AcaPyKey, DateTimeOffset.UnixEpoch);
        d["@type"] = SignatureDecorator.LegacySigType;
        Assert.DoesNotThrow(() => SignatureDecorator.Verify(d));
    }

    [TestCase("@type")]
    [TestCase("signature")]
    [TestCase("sig_data")]
    [TestCase("signer")]
    public void Missing_or_non_string_members_are_rejected(string member)
    {
        var d = SignatureDecorator.Sign(JsonNode.Parse("{}")!, AcaPyKey, DateTimeOffset.UnixEpoch);
        var missing = (JsonObject)d.DeepClone();
        missing.Remove(member);
        Assert.Throws<SignatureException>(() => SignatureDecorator.Verify(missing));
        var number = (JsonObject)d.DeepClone();
        number[member] = 12;
        Assert.Throws<SignatureException>(() => SignatureDecorator.Verify(number));
    }

    [TestCase("signature", "not base64!")]
    [TestCase("signature", "AAAA")]
    [TestCase("sig_data", "@@@@")]
    [TestCase("signer", "0OIl")]
    [TestCase("signer", "3Dn1SJNPaCXcvvJvSbsFWP2xaCj")]
    public void Malformed_members_are_rejected(string member, string value)
    {
        var d = SignatureDecorator.Sign(JsonNode.Parse("{}")!, AcaPyKey, DateTimeOffset.UnixEpoch);
        d[member] = value;
        Assert.Throws<SignatureException>(() => SignatureDecorator.Verify(d));
    }

    [Test]
    public void Validly_signed_but_malformed_content_is_rejected()
    {
        // Short sig_data, non-JSON payload, impossible timestamp: each signed correctly, each still refused.
        static JsonObject SignedRaw(byte[] data) => new()
        {
            ["@type"] = SignatureDecorator.SigType,
            ["signature"] = Base64Url.Encode(AcaPyKey.Sign(data)),
            ["sig_data"] = Base64Url.Encode(data),
            ["signer"] = AcaPyKey.Verkey,
        };
        Assert.That(Assert.Throws<SignatureException>(() => SignatureDecorator.Verify(SignedRaw([1, 2, 3, 4])))!.Message, Does.Contain("8-byte timestamp"));
        Assert.That(Assert.Throws<SignatureException>(() => SignatureDecorator.Verify(SignedRaw([0, 0, 0, 0, 0, 0, 0, 0, (byte)'{'])))!.Message, Does.Contain("not JSON"));
        Assert.That(Assert.Throws<SignatureException>(() => SignatureDecorator.Verify(SignedRaw([.. Enumerable.Repeat((byte)0xff, 8), (byte)'1'])))!.Message, Does.Contain("out of range"));
    }

    [Test]
    public void Sign_refuses_pre_epoch_timestamps()
        => Assert.Throws<ArgumentOutOfRangeException>(() => SignatureDecorator.Sign(JsonNode.Parse("{}")!, AcaPyKey, DateTimeOffset.UnixEpoch.AddSeconds(-1)));
}
