using System.Text.Json.Nodes;

namespace Conformance.Cli.Tests;

/// <summary>
/// envelope unpack / pack through the CLI. Known answers: aries-framework-go's legacy packer test envelopes
/// (shared/vectors/didcomm-v1-envelopes.json, extracted from pkg/didcomm/packer/legacy/{authcrypt,anoncrypt}/*_test.go)
/// and Credo's test seed "00000000000000000000000000000My1" whose verkey is GjZWsBLgZCR18aL468JAT7w9CZRiBnpxUPPgyQxh4voa
/// (credo-ts crypto/__tests__/__fixtures__/didJwsz6Mkv.ts).
/// </summary>
public class EnvelopeVerbTests
{
    private const string CredoSeed = "00000000000000000000000000000My1";
    private const string CredoVerkey = "GjZWsBLgZCR18aL468JAT7w9CZRiBnpxUPPgyQxh4voa";

    // RFC 0360 "Use did:key": 8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K <-> did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th.
    private const string Rfc0360Verkey = "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K";
    private const string Rfc0360DidKey = "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th";

    private const string Ping = """{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"518be002-de8e-456e-b3d5-8fe472477a86","comment":"héllo ✓"}""";

    private static JsonArray Cases() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(CliPaths.Vectors, "didcomm-v1-envelopes.json")))!["cases"]!.AsArray();

    public static IEnumerable<TestCaseData> OkCases() =>
        Cases().Select((c, i) => (c, i)).Where(x => x.c!["expect"]!.GetValue<string>() == "ok")
            .Select(x => new TestCaseData(x.i).SetName("Unpacks vector: " + x.c!["name"]!.GetValue<string>()));

    public static IEnumerable<TestCaseData> ErrorCases() =>
        Cases().Select((c, i) => (c, i)).Where(x => x.c!["expect"]!.GetValue<string>() == "error")
            .Select(x => new TestCaseData(x.i).SetName("Refuses vector: " + x.c!["name"]!.GetValue<string>()));

    private static JsonObject Case(int i) => Cases()[i]!.AsObject();

    private static string S(JsonNode? n) => n!.GetValue<string>();

    /// <summary>(verkey, base58 64-byte secret) of the vector recipients, distinct.</summary>
    private static List<(string Verkey, string Secret)> VectorKeys() =>
        Cases().Select(c => (S(c!["recipient_verkey"]), S(c!["recipient_secret"]))).Distinct().ToList();

    [TestCaseSource(nameof(OkCases))]
    public void Unpacks_vector_from_file(int index)
    {
        var c = Case(index);
        var secret = S(c["recipient_secret"]);
        var file = Cli.TempFile(c["envelope"]!.ToJsonString());
        var r = Cli.Run("envelope", "unpack", "--secret", secret, file);
        var json = Cli.AssertOk(r);
        Assert.That(S(json["message"]), Is.EqualTo(S(c["plaintext"])));   // the vector plaintexts are not JSON: shown as strings
        Assert.That(S(json["recipient_verkey"]), Is.EqualTo(S(c["recipient_verkey"])));
        if (c["sender_verkey"] is { } sender)
        {
            Assert.That(S(json["sender_verkey"]), Is.EqualTo(S(sender)));
            Assert.That(S(json["mode"]), Is.EqualTo("authcrypt"));
        }
        else
        {
            Assert.That(json["sender_verkey"], Is.Null);
            Assert.That(json.ContainsKey("sender_verkey"), Is.True, "sender_verkey is present, as null, for anoncrypt");
            Assert.That(S(json["mode"]), Is.EqualTo("anoncrypt"));
        }
        Assert.That(r.Stdout, Does.Not.Contain(secret));
    }

    [TestCaseSource(nameof(OkCases))]
    public void Unpacks_vector_from_stdin_with_the_right_one_of_several_secrets(int index)
    {
        var c = Case(index);
        var others = VectorKeys().Where(k => k.Verkey != S(c["recipient_verkey"])).Select(k => k.Secret).ToList();
        string[] args = ["envelope", "unpack", .. others.SelectMany(s => new[] { "--secret", s }), "--secret", S(c["recipient_secret"]), "-"];
        var json = Cli.AssertOk(Cli.RunWithInput(c["envelope"]!.ToJsonString(), args));
        Assert.That(S(json["message"]), Is.EqualTo(S(c["plaintext"])));
    }

    [TestCaseSource(nameof(ErrorCases))]
    public void Refuses_vector_not_addressed_to_the_key(int index)
    {
        var c = Case(index);
        var secret = S(c["recipient_secret"]);
        var line = Cli.AssertBadInput(Cli.RunWithInput(c["envelope"]!.ToJsonString(), "envelope", "unpack", "--secret", secret), secret);
        Assert.That(line, Does.Contain("not addressed to any key").And.Contain(S(c["recipient_verkey"])));
    }

    [Test]
    public void Anoncrypt_round_trip_to_two_recipients_given_as_verkey_and_did_key()
    {
        var (aliceVk, aliceSk) = VectorKeys()[0];
        var packed = Cli.RunWithInput(Ping, "envelope", "pack", "--to", aliceVk, "--to", "did:key:" + MultibaseEd25519(CredoVerkey));
        var envelope = Cli.AssertOk(packed);
        Assert.That(envelope.Select(kv => kv.Key), Is.EquivalentTo(new[] { "protected", "iv", "ciphertext", "tag" }));

        foreach (var (secret, verkey) in new[] { (aliceSk, aliceVk), (CredoSeed, CredoVerkey) })
        {
            var json = Cli.AssertOk(Cli.RunWithInput(packed.Stdout, "envelope", "unpack", "--secret", secret));
            Assert.That(JsonNode.DeepEquals(json["message"], JsonNode.Parse(Ping)), Is.True, json.ToJsonString());
            Assert.That(json["sender_verkey"], Is.Null);
            Assert.That(S(json["recipient_verkey"]), Is.EqualTo(verkey));
        }
    }

    [Test]
    public void Authcrypt_round_trip_reports_the_sender()
    {
        var keys = VectorKeys();
        var (senderVk, senderSk) = keys[0];
        var (recipientVk, recipientSk) = keys[1];
        var file = Cli.TempFile(Ping);
        var packed = Cli.Run("envelope", "pack", "--to", recipientVk, "--from-secret", senderSk, file);
        Cli.AssertOk(packed);
        Assert.That(packed.Stdout, Does.Not.Contain(senderSk));

        var json = Cli.AssertOk(Cli.RunWithInput(packed.Stdout, "envelope", "unpack", "--secret", recipientSk));
        Assert.That(S(json["sender_verkey"]), Is.EqualTo(senderVk));
        Assert.That(S(json["recipient_verkey"]), Is.EqualTo(recipientVk));
        Assert.That(S(json["mode"]), Is.EqualTo("authcrypt"));
        Assert.That(S(json["message"]!["comment"]), Is.EqualTo("héllo ✓"));
    }

    [Test]
    public void Wallet_seed_secret_is_Credos_key()
    {
        // A 32-character wallet seed (ACA-Py --seed / indy) is the 32 seed bytes: Credo's fixture key.
        var packed = Cli.AssertOk(Cli.RunWithInput(Ping, "envelope", "pack", "--to", CredoVerkey));
        var json = Cli.AssertOk(Cli.RunWithInput(packed.ToJsonString(), "envelope", "unpack", "--secret", CredoSeed));
        Assert.That(S(json["recipient_verkey"]), Is.EqualTo(CredoVerkey));
    }

    [Test]
    public void Secret_can_be_read_from_a_file()
    {
        var c = Case(0);
        var keyFile = Cli.TempFile(S(c["recipient_secret"]) + "\n");
        var json = Cli.AssertOk(Cli.RunWithInput(c["envelope"]!.ToJsonString(), "envelope", "unpack", "--secret", "@" + keyFile));
        Assert.That(S(json["message"]), Is.EqualTo(S(c["plaintext"])));
    }

    [Test]
    public void Seeded_pack_is_deterministic_and_padded_and_xchacha_options_take_effect()
    {
        var a = Cli.AssertOk(Cli.RunWithInput(Ping, "envelope", "pack", "--to", Rfc0360DidKey, "--seed", "spec-example"));
        var b = Cli.AssertOk(Cli.RunWithInput(Ping, "envelope", "pack", "--to", Rfc0360DidKey, "--seed", "spec-example"));
        var c = Cli.AssertOk(Cli.RunWithInput(Ping, "envelope", "pack", "--to", Rfc0360DidKey, "--seed", "other"));
        Assert.That(JsonNode.DeepEquals(a, b), Is.True);
        Assert.That(JsonNode.DeepEquals(a, c), Is.False);

        // RFC 0019 header: the kid is the verkey the did:key names (RFC 0360 transformation).
        var header = JsonNode.Parse(Convert.FromBase64String(PadB64(S(a["protected"]))))!;
        Assert.That(S(header["recipients"]![0]!["header"]!["kid"]), Is.EqualTo(Rfc0360Verkey));
        Assert.That(S(header["alg"]), Is.EqualTo("Anoncrypt"));
        Assert.That(Convert.FromBase64String(PadB64(S(a["iv"]))), Has.Length.EqualTo(12));

        var padded = Cli.AssertOk(Cli.RunWithInput(Ping, "envelope", "pack", "--to", Rfc0360Verkey, "--padded", "--xchacha"));
        Assert.That(S(padded["tag"]), Does.EndWith("=="));   // 16 bytes -> 24 chars with "=="
        Assert.That(Convert.FromBase64String(PadB64(S(padded["iv"]))), Has.Length.EqualTo(24));
    }

    [Test]
    public void Routing_keys_wrap_in_forward_messages()
    {
        var keys = VectorKeys();
        var (recipientVk, recipientSk) = keys[0];
        var (mediatorVk, mediatorSk) = keys[1];
        var outer = Cli.RunWithInput(Ping, "envelope", "pack", "--to", recipientVk, "--routing-key", mediatorVk);
        Cli.AssertOk(outer);

        // The mediator opens a forward addressed to the recipient key (RFC 0094) ...
        var forward = Cli.AssertOk(Cli.RunWithInput(outer.Stdout, "envelope", "unpack", "--secret", mediatorSk))["message"]!;
        Assert.That(S(forward["@type"]), Is.EqualTo("https://didcomm.org/routing/1.0/forward"));
        Assert.That(S(forward["to"]), Is.EqualTo(recipientVk));
        // ... whose msg is the envelope for the recipient.
        var inner = Cli.AssertOk(Cli.RunWithInput(forward["msg"]!.ToJsonString(), "envelope", "unpack", "--secret", recipientSk));
        Assert.That(JsonNode.DeepEquals(inner["message"], JsonNode.Parse(Ping)), Is.True);

        Assert.That(Cli.AssertBadInput(Cli.RunWithInput(Ping, "envelope", "pack", "--to", recipientVk, "--to", CredoVerkey, "--routing-key", mediatorVk)),
            Does.Contain("exactly one --to"));
    }

    // ---------------------------------------------------------------- bad input

    [Test]
    public void Non_json_envelope()
    {
        var secret = VectorKeys()[0].Secret;
        var line = Cli.AssertBadInput(Cli.RunWithInput("this is not json", "envelope", "unpack", "--secret", secret), secret);
        Assert.That(line, Does.Contain("not valid JSON"));
    }

    [Test]
    public void Truncated_envelope()
    {
        var c = Case(0);
        var secret = S(c["recipient_secret"]);
        var text = c["envelope"]!.ToJsonString();
        Cli.AssertBadInput(Cli.RunWithInput(text[..(text.Length / 2)], "envelope", "unpack", "--secret", secret), secret);

        // Well-formed JSON, but the ciphertext lost its tail: the AEAD tag no longer verifies.
        var cut = c["envelope"]!.DeepClone().AsObject();
        cut["ciphertext"] = S(cut["ciphertext"])[..20];
        Cli.AssertBadInput(Cli.RunWithInput(cut.ToJsonString(), "envelope", "unpack", "--secret", secret), secret);

        // Missing member.
        cut.Remove("tag");
        Cli.AssertBadInput(Cli.RunWithInput(cut.ToJsonString(), "envelope", "unpack", "--secret", secret), secret);
    }

    [Test]
    public void Wrong_secret_names_the_kids_and_the_given_key_but_not_the_secret()
    {
        var c = Case(0);
        var (wrongVk, wrongSk) = VectorKeys().First(k => k.Verkey != S(c["recipient_verkey"]));
        var line = Cli.AssertBadInput(Cli.RunWithInput(c["envelope"]!.ToJsonString(), "envelope", "unpack", "--secret", wrongSk), wrongSk);
        Assert.That(line, Does.Contain(S(c["recipient_verkey"])).And.Contain(wrongVk));
    }

    public static IEnumerable<TestCaseData> BadSecrets()
    {
        yield return new TestCaseData("not-base58!!0OIl").SetName("Bad secret: not base58");
        yield return new TestCaseData("3mJr7AoUXx2Wqd").SetName("Bad secret: base58 of 10 bytes");
        yield return new TestCaseData(Base58Encode(Enumerable.Repeat((byte)7, 33).ToArray())).SetName("Bad secret: base58 of 33 bytes");
        yield return new TestCaseData(Base58Encode(Enumerable.Repeat((byte)7, 63).ToArray())).SetName("Bad secret: base58 of 63 bytes");
    }

    [TestCaseSource(nameof(BadSecrets))]
    public void Bad_secret(string secret)
    {
        var c = Case(0);
        var line = Cli.AssertBadInput(Cli.RunWithInput(c["envelope"]!.ToJsonString(), "envelope", "unpack", "--secret", secret), secret);
        Assert.That(line, Does.StartWith("conformance: --secret: "));
        line = Cli.AssertBadInput(Cli.RunWithInput(c["envelope"]!.ToJsonString(), "envelope", "unpack", "--secret=" + secret), secret);
        Assert.That(line, Does.StartWith("conformance: --secret: "));
        line = Cli.AssertBadInput(Cli.RunWithInput(Ping, "envelope", "pack", "--to", CredoVerkey, "--from-secret", secret), secret);
        Assert.That(line, Does.StartWith("conformance: --from-secret: "));
    }

    [Test]
    public void Sixty_four_byte_secret_with_a_mismatched_public_half()
    {
        // Seed of one vector key with the public half of another: FromSecret must refuse, and say so without the key.
        var keys = VectorKeys();
        var a = Base58Decode(keys[0].Secret);
        var b = Base58Decode(keys[1].Secret);
        var mixed = Base58Encode([.. a[..32], .. b[32..]]);
        var line = Cli.AssertBadInput(Cli.RunWithInput(Case(0)["envelope"]!.ToJsonString(), "envelope", "unpack", "--secret", mixed), mixed, keys[0].Secret);
        Assert.That(line, Does.Contain("public half"));
    }

    [Test]
    public void Unpack_errors_never_echo_the_secret_even_when_it_is_misplaced()
    {
        var secret = VectorKeys()[0].Secret;
        // The secret typed where the FILE goes, or followed by usage errors: no line may contain it.
        Cli.AssertBadInput(Cli.Run("envelope", "unpack", secret), secret);
        Cli.AssertBadInput(Cli.Run("envelope", "unpack", "--secret", secret, "--secret"), secret);
        Cli.AssertBadInput(Cli.Run("envelope", "unpack", "--secret", secret, "--bogus", secret), secret);
        Cli.AssertBadInput(Cli.Run("envelope", "unpack", "--secret", secret, "a", "b"), secret);
        Cli.AssertBadInput(Cli.Run("envelope", "unpack", "--secret", secret, "/nonexistent/" + secret), secret);
    }

    [Test]
    public void Pack_rejects_bad_plaintext_and_bad_keys()
    {
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput("hello", "envelope", "pack", "--to", CredoVerkey)), Does.Contain("not valid JSON"));
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput("[1,2]", "envelope", "pack", "--to", CredoVerkey)), Does.Contain("JSON object"));
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput("", "envelope", "pack", "--to", CredoVerkey)), Does.Contain("empty"));
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput(Ping, "envelope", "pack", "--to", "not-a-key")), Does.StartWith("conformance: --to: "));
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput(Ping, "envelope", "pack", "--to", "did:key:z6LShpNhGwSupbB7zjuivH156vhLJBDDzmQtA4BY9S94pe1K")),
            Does.Contain("Ed25519"));   // an X25519 did:key cannot receive a v1 envelope
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput(Ping, "envelope", "pack", "--to", "did:sov:LjgpST2rjsoxYegQDRm7EL")), Does.StartWith("conformance: --to: "));
    }

    // ---------------------------------------------------------------- helpers

    private static string PadB64(string s)
    {
        s = s.Replace('-', '+').Replace('_', '/');
        return s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
    }

    private static string MultibaseEd25519(string verkey) =>
        "z" + Base58Encode([0xed, 0x01, .. Base58Decode(verkey)]);

    private static byte[] Base58Decode(string s) => Conformance.Wire.Encoding.Base58.Decode(s);

    private static string Base58Encode(byte[] b) => Conformance.Wire.Encoding.Base58.Encode(b);
}
