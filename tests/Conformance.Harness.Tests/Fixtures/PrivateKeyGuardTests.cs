using System.Text;
using System.Text.Json.Nodes;
using Conformance.Harness.Fixtures;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;

namespace Conformance.Harness.Tests.Fixtures;

public class PrivateKeyGuardTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    // shared/vectors/didcomm-v1-envelopes.json (aries-framework-go legacy packer tests): "recipient_secret" is the
    // base58 of a 64-byte Ed25519 secret key.
    private const string VectorSecret = "2nYsWTQ1ZguQ7G2HYfMWjMNqWagBQfaKB9GLbsFk7Z7tKVBEr2arwpVKDwgLUbaxguUzQuf7o67aWKzgtHmKaypM";

    [Test]
    public void The_envelope_vector_secret_is_key_sized()
    {
        Assert.That(Base58.Decode(VectorSecret), Has.Length.EqualTo(64));
        Assert.That(PrivateKeyGuard.IsKeySized(VectorSecret, "recipient_secret"), Is.True);
    }

    [Test]
    public void Writing_a_fixture_with_a_private_key_throws_without_showing_the_key()
    {
        using var tmp = new TempDir();
        var store = new FixtureStore(tmp.Path);
        var t = Transcripts.DidExchangeFlow("a", 40001, T0);
        t[1].Plaintext["recipient_secret"] = VectorSecret;

        var e = Assert.Throws<PrivateKeyException>(() => store.Verify("agent", "CASE-1", t));
        Assert.That(e!.Message, Does.Contain("$.recipient_secret"));
        Assert.That(e.Message, Does.Contain("02-peer-to-aut-request.json"));
        Assert.That(e.Message, Does.Not.Contain(VectorSecret));
        Assert.That(Directory.Exists(store.CaseDirectory("agent", "CASE-1")), Is.False, "nothing written");

        // Also with keep-raw and in accept mode.
        Assert.Throws<PrivateKeyException>(() => new FixtureStore(tmp.Path, ScrubPolicy.KeepRaw).Verify("agent", "CASE-1", t, accept: true));
    }

    [TestCase("seed", "000000000000000000000000Trustee1")]         // AATH / ACA-Py style 32-character seed
    [TestCase("privateKeyBase58", null)]
    [TestCase("secretKey", null)]
    [TestCase("d", null)]                                            // JWK private member, base64url 32 bytes
    [TestCase("private_key_hex", null)]
    public void Names_and_sizes_that_look_like_private_keys_are_found(string name, string? value)
    {
        var key = Entropy.Seeded("guard").Bytes(32);
        value ??= name switch
        {
            "privateKeyBase58" => Base58.Encode(key),
            "secretKey" => Convert.ToBase64String(Entropy.Seeded("guard").Bytes(64)),
            "d" => Base64Url.Encode(key),
            _ => Convert.ToHexStringLower(key),
        };
        var m = new JsonObject { ["@id"] = "1", ["nested"] = new JsonArray(new JsonObject { [name] = value }) };
        var found = PrivateKeyGuard.Find(m);
        Assert.That(found.Select(f => f.Path), Is.EqualTo(new[] { $"$.nested[0].{name}" }));
    }

    [Test]
    public void Public_values_under_secret_sounding_names_pass()
    {
        var m = new JsonObject
        {
            ["private"] = true,
            ["seed"] = "short",
            ["d"] = "2024-01-01",
            ["secret_hint"] = "ask Alice",
            ["publicKeyBase58"] = Ed25519KeyPair.Generate(Entropy.Seeded("p")).Verkey,
            ["jwk"] = new JsonObject { ["kty"] = "OKP", ["crv"] = "Ed25519", ["x"] = Base64Url.Encode(Entropy.Seeded("x").Bytes(32)) },
        };
        Assert.That(PrivateKeyGuard.Find(m), Is.Empty);
        Assert.DoesNotThrow(() => PrivateKeyGuard.EnsureNone(m, "test"));
    }

    [Test]
    public void A_private_key_inside_a_base64_attachment_is_found()
    {
        var doc = new JsonObject { ["id"] = "did:example:1", ["privateKeyJwk"] = new JsonObject { ["kty"] = "OKP", ["d"] = Base64Url.Encode(Entropy.Seeded("d").Bytes(32)) } };
        var m = new JsonObject
        {
            ["@id"] = "1",
            ["did_doc~attach"] = new JsonObject { ["data"] = new JsonObject { ["base64"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(doc.ToJsonString())) } },
        };
        var found = PrivateKeyGuard.Find(m);
        Assert.That(found, Has.Count.EqualTo(1));
        Assert.That(found[0].Path, Is.EqualTo("$.did_doc~attach.data.base64(base64).privateKeyJwk.d"));

        Assert.That(PrivateKeyGuard.Redact(m), Is.EqualTo(1));
        Assert.That(m["did_doc~attach"]!["data"]!["base64"]!.GetValue<string>(), Is.EqualTo(PrivateKeyGuard.Redacted));
    }

    [Test]
    public void Redact_replaces_values_in_json_and_in_text()
    {
        var m = new JsonObject { ["a"] = new JsonObject { ["seed"] = "000000000000000000000000Trustee1", ["label"] = "Bob" } };
        Assert.That(PrivateKeyGuard.Redact(m), Is.EqualTo(1));
        Assert.That(m.ToJsonString(), Does.Not.Contain("Trustee1"));
        Assert.That(m["a"]!["label"]!.GetValue<string>(), Is.EqualTo("Bob"));

        var text = $"observed {{\"recipient_secret\": \"{VectorSecret}\", \"label\": \"Bob\"}} and seed={VectorSecret}";
        var r = PrivateKeyGuard.RedactText(text);
        Assert.That(r, Does.Not.Contain(VectorSecret));
        Assert.That(r, Does.Contain("\"label\": \"Bob\""));
        Assert.That(r, Does.Contain("\"recipient_secret\": \"" + PrivateKeyGuard.Redacted + "\""));
    }
}
