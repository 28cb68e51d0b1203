using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;
using Conformance.Wire.Signatures;

namespace Conformance.Cli.Tests;

/// <summary>
/// sig verify. Known answer: Credo's signature decorator test (credo-ts packages/didcomm/src/decorators/signature/
/// SignatureDecoratorUtils.test.ts): seed "00000000000000000000000000000My1", timestamp 0, signature and sig_data below.
/// Fresh signatures come from SignatureDecorator.Sign (RFC 0234 ed25519Sha512_single).
/// </summary>
public class SigVerbTests
{
    private const string CredoVerkey = "GjZWsBLgZCR18aL468JAT7w9CZRiBnpxUPPgyQxh4voa";
    private const string CredoSignature = "TeVQ7m4v7y4Gg80JZWN50H9GjWc3XFDQJ3QpoY2kuAK1ZzX9a_7Tls-X-GI9-JLCysPKzB5EnzAy3EIPi082BA";
    private const string CredoSigData =
        "AAAAAAAAAAB7ImRpZCI6ImRpZCIsImRpZF9kb2MiOnsiQGNvbnRleHQiOiJodHRwczovL3d3dy53My5vcmcvbnMvZGlkL3YxIiwic2VydmljZSI6W3siaWQiOiJkaWQ6ZXhhbXBsZToxMjM0NTY3ODlhYmNkZWZnaGkjZGlkLWNvbW11bmljYXRpb24iLCJ0eXBlIjoiZGlkLWNvbW11bmljYXRpb24iLCJwcmlvcml0eSI6MCwicmVjaXBpZW50S2V5cyI6WyJzb21lVmVya2V5Il0sInJvdXRpbmdLZXlzIjpbXSwic2VydmljZUVuZHBvaW50IjoiaHR0cHM6Ly9hZ2VudC5leGFtcGxlLmNvbS8ifV19fQ";
    private const string CredoData = """
        {"did":"did","did_doc":{"@context":"https://www.w3.org/ns/did/v1","service":[{"id":"did:example:123456789abcdefghi#did-communication","type":"did-communication","priority":0,"recipientKeys":["someVerkey"],"routingKeys":[],"serviceEndpoint":"https://agent.example.com/"}]}}
        """;

    private static JsonObject CredoDecorator() => new()
    {
        ["@type"] = "https://didcomm.org/signature/1.0/ed25519Sha512_single",
        ["signature"] = CredoSignature,
        ["sig_data"] = CredoSigData,
        ["signer"] = CredoVerkey,
    };

    /// <summary>An RFC 0160 connections/1.0 response carrying <paramref name="sig"/> as connection~sig.</summary>
    private static JsonObject Response(JsonObject sig) => new()
    {
        ["@type"] = "https://didcomm.org/connections/1.0/response",
        ["@id"] = "12345678900987654321",
        ["~thread"] = new JsonObject { ["thid"] = "A.@id" },
        ["connection~sig"] = sig,
    };

    private static string S(JsonNode? n) => n!.GetValue<string>();

    [Test]
    public void Verifies_Credos_known_answer_in_a_connection_response()
    {
        var json = Cli.AssertOk(Cli.RunWithInput(Response(CredoDecorator()).ToJsonString(), "sig", "verify"));
        Assert.That(S(json["field"]), Is.EqualTo("connection"));
        Assert.That(JsonNode.DeepEquals(json["value"], JsonNode.Parse(CredoData)), Is.True, json.ToJsonString());
        Assert.That(S(json["signer"]), Is.EqualTo(CredoVerkey));
        Assert.That(S(json["timestamp"]), Is.EqualTo("1970-01-01T00:00:00Z"));
        Assert.That(json["valid"]!.GetValue<bool>(), Is.True);
    }

    [Test]
    public void Verifies_a_bare_decorator_from_a_file()
    {
        var json = Cli.AssertOk(Cli.Run("sig", "verify", Cli.TempFile(CredoDecorator().ToJsonString())));
        Assert.That(json["field"], Is.Null);
        Assert.That(json.ContainsKey("field"), Is.True);
        Assert.That(S(json["signer"]), Is.EqualTo(CredoVerkey));
    }

    [Test]
    public void Verifies_a_fresh_signature_and_checks_the_expected_signer()
    {
        var key = Ed25519KeyPair.Generate(Entropy.Seeded("cli sig test"));
        var connection = JsonNode.Parse("""{"DID":"B.did@B:A","DIDDoc":{"@context":"https://w3id.org/did/v1"}}""")!;
        var when = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);
        var message = Response(SignatureDecorator.Sign(connection, key, when));

        var json = Cli.AssertOk(Cli.RunWithInput(message.ToJsonString(), "sig", "verify", "--signer", key.Verkey));
        Assert.That(JsonNode.DeepEquals(json["value"], connection), Is.True);
        Assert.That(S(json["signer"]), Is.EqualTo(key.Verkey));
        Assert.That(S(json["timestamp"]), Is.EqualTo("2024-05-06T07:08:09Z"));

        // --signer accepts the did:key form of the same key (RFC 0360).
        var didKey = "did:key:z" + Base58.Encode([0xed, 0x01, .. key.PublicKey]);
        Cli.AssertOk(Cli.RunWithInput(message.ToJsonString(), "sig", "verify", "--signer", didKey, "--field", "connection~sig"));

        // Signed by someone else than expected: refused.
        var line = Cli.AssertBadInput(Cli.RunWithInput(message.ToJsonString(), "sig", "verify", "--signer", CredoVerkey));
        Assert.That(line, Does.Contain("not by the expected signer " + CredoVerkey));
    }

    [Test]
    public void Tampered_signed_data_does_not_verify()
    {
        var key = Ed25519KeyPair.Generate(Entropy.Seeded("cli sig tamper"));
        var sig = SignatureDecorator.Sign(JsonNode.Parse("""{"DID":"abc","amount":100}""")!, key, DateTimeOffset.UnixEpoch.AddDays(20000));

        // Change one byte of the signed JSON (100 -> 900) and re-encode: well-formed, but not what was signed.
        var data = Base64Url.Decode(S(sig["sig_data"]));
        var text = System.Text.Encoding.UTF8.GetString(data, 8, data.Length - 8);
        var tamperedJson = System.Text.Encoding.UTF8.GetBytes(text.Replace("100", "900"));
        sig["sig_data"] = Base64Url.Encode([.. data[..8], .. tamperedJson], padded: true);

        var line = Cli.AssertBadInput(Cli.RunWithInput(Response(sig).ToJsonString(), "sig", "verify"));
        Assert.That(line, Is.EqualTo($"conformance: connection~sig: signature does not verify for signer {key.Verkey}"));
    }

    [Test]
    public void Signature_by_another_key_does_not_verify()
    {
        var sig = CredoDecorator();
        sig["signer"] = Ed25519KeyPair.Generate(Entropy.Seeded("other")).Verkey;
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput(Response(sig).ToJsonString(), "sig", "verify")), Does.Contain("does not verify for signer"));
    }

    [Test]
    public void Several_signed_fields_need_field()
    {
        var message = Response(CredoDecorator());
        var other = SignatureDecorator.Sign(JsonNode.Parse("""{"x":1}""")!, Ed25519KeyPair.Generate(Entropy.Seeded("x")), DateTimeOffset.UnixEpoch);
        message["other~sig"] = other;
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput(message.ToJsonString(), "sig", "verify")), Does.Contain("--field"));
        var json = Cli.AssertOk(Cli.RunWithInput(message.ToJsonString(), "sig", "verify", "--field", "other"));
        Assert.That(S(json["field"]), Is.EqualTo("other"));
        Assert.That(json["value"]!["x"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput(message.ToJsonString(), "sig", "verify", "--field", "nope")), Does.Contain("no 'nope~sig'"));
    }

    [TestCase("not json", "not valid JSON")]
    [TestCase("[]", "JSON object")]
    [TestCase("""{"@type":"https://didcomm.org/connections/1.0/response"}""", "no field ending in ~sig")]
    [TestCase("""{"connection~sig":"abc"}""", "must be a signature decorator object")]
    [TestCase("""{"connection~sig":{"@type":"https://didcomm.org/signature/1.0/ed25519Sha512_single","signer":"x"}}""", "missing")]
    [TestCase("""{"connection~sig":{"@type":"https://example.org/other","signature":"a","sig_data":"b","signer":"c"}}""", "unsupported")]
    [TestCase("""{"a":1,"a":2,"b~sig":{}}""", "not valid JSON")]   // duplicate member names are refused
    [TestCase("", "empty")]
    public void Bad_signed_messages(string input, string reason)
    {
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput(input, "sig", "verify")), Does.Contain(reason));
    }

    [Test]
    public void Truncated_signature()
    {
        var sig = CredoDecorator();
        sig["signature"] = CredoSignature[..40];
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput(Response(sig).ToJsonString(), "sig", "verify")), Does.Contain("64 bytes"));
    }
}
