using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;
using Conformance.Wire.Envelopes;
using static Conformance.Wire.Tests.Envelopes.EnvelopeTestKit;

namespace Conformance.Wire.Tests.Envelopes;

/// <summary>RFC 0019 pack/unpack: wire format, interop with raw libsodium, tolerance, strictness, determinism.</summary>
public class Rfc0019Tests
{
    private static readonly Entropy KeySource = Entropy.Seeded("rfc0019-tests", "keys");
    private static readonly Ed25519KeyPair Alice = Ed25519KeyPair.Generate(KeySource);
    private static readonly Ed25519KeyPair Bob = Ed25519KeyPair.Generate(KeySource);
    private static readonly Ed25519KeyPair Carol = Ed25519KeyPair.Generate(KeySource);
    private const string Message = """{"@type":"https://didcomm.org/trust_ping/1.0/ping","@id":"518be002-de8e-456e-b3d5-8fe472477a86"}""";

    private static string AuthcryptToBob(string seed = "bad-input") =>
        Rfc0019.Pack(Message, [Bob.Verkey], Alice, Entropy.Seeded(seed));

    private static EnvelopeError ErrorOf(string envelope, Func<string, Ed25519KeyPair?>? lookup = null)
    {
        var e = Assert.Throws<EnvelopeException>(() => Rfc0019.Unpack(envelope, lookup ?? Holding(Bob)))!;
        AssertReadable(e, Alice, Bob, Carol);
        return e.Error;
    }

    // ------------------------------------------------------------------ wire format

    [Test]
    public void Packed_envelope_has_the_README_layout_in_ACA_Py_and_Credo_order()
    {
        var env = Rfc0019.Pack(Message, [Bob.Verkey, Carol.Verkey], Alice, Entropy.Seeded("layout"));
        var o = Parse(env);
        Assert.That(o.Select(p => p.Key), Is.EqualTo(new[] { "protected", "iv", "ciphertext", "tag" }));
        Assert.That(env, Does.Not.Contain(" ").And.Not.Contain("="), "compact JSON, unpadded base64url");

        var h = Header(env);
        Assert.That(h.Select(p => p.Key), Is.EqualTo(new[] { "enc", "typ", "alg", "recipients" }));
        Assert.That(h["enc"]!.GetValue<string>(), Is.EqualTo("xchacha20poly1305_ietf"));
        Assert.That(h["typ"]!.GetValue<string>(), Is.EqualTo("JWM/1.0"));
        Assert.That(h["alg"]!.GetValue<string>(), Is.EqualTo("Authcrypt"));
        var recipients = h["recipients"]!.AsArray();
        Assert.That(recipients.Select(r => r!["header"]!["kid"]!.GetValue<string>()), Is.EqualTo(new[] { Bob.Verkey, Carol.Verkey }));
        foreach (var r in recipients)
        {
            Assert.That(r!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "encrypted_key", "header" }));
            Assert.That(r["header"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "kid", "sender", "iv" }));
            Assert.That(Base64Url.Decode(r["header"]!["iv"]!.GetValue<string>()), Has.Length.EqualTo(24), "crypto_box nonce");
            Assert.That(Base64Url.Decode(r["encrypted_key"]!.GetValue<string>()), Has.Length.EqualTo(32 + 16), "crypto_box(cek) = MAC + 32");
            Assert.That(Base64Url.Decode(r["header"]!["sender"]!.GetValue<string>()), Has.Length.EqualTo(48 + Alice.Verkey.Length), "sealed verkey string");
        }
        Assert.That(Base64Url.Decode(o["iv"]!.GetValue<string>()), Has.Length.EqualTo(12), "ChaCha20-Poly1305-IETF iv, as indy-sdk/ACA-Py/Credo");
        Assert.That(Base64Url.Decode(o["tag"]!.GetValue<string>()), Has.Length.EqualTo(16));
        Assert.That(Base64Url.Decode(o["ciphertext"]!.GetValue<string>()), Has.Length.EqualTo(Message.Length));

        var anon = Header(Rfc0019.Pack(Message, [Bob.Verkey], null, Entropy.Seeded("layout")));
        Assert.That(anon["alg"]!.GetValue<string>(), Is.EqualTo("Anoncrypt"));
        Assert.That(anon["recipients"]![0]!["header"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "kid" }));
    }

    [Test]
    public void Anoncrypt_envelope_opens_with_raw_libsodium()
    {
        // Interop sanity, independent of Unpack: crypto_box_seal_open(encrypted_key) gives the cek, which opens the
        // content with ChaCha20-Poly1305-IETF over AAD = the protected string (README "Anoncrypt pack algorithm").
        var env = Parse(Rfc0019.Pack(Message, [Carol.Verkey, Bob.Verkey], null, Entropy.System));
        var protectedB64 = env["protected"]!.GetValue<string>();
        var bobEntry = Header(env.ToJsonString())["recipients"]![1]!;
        Assert.That(bobEntry["header"]!["kid"]!.GetValue<string>(), Is.EqualTo(Bob.Verkey));

        var cek = Sodium.BoxSealOpen(Base64Url.Decode(bobEntry["encrypted_key"]!.GetValue<string>()), Bob.X25519Public, Bob.X25519Secret());
        Assert.That(cek, Has.Length.EqualTo(32));
        var sealedContent = Base64Url.Decode(env["ciphertext"]!.GetValue<string>()).Concat(Base64Url.Decode(env["tag"]!.GetValue<string>())).ToArray();
        var plain = Sodium.ChaCha20Poly1305Decrypt(sealedContent, System.Text.Encoding.ASCII.GetBytes(protectedB64), Base64Url.Decode(env["iv"]!.GetValue<string>()), cek);
        Assert.That(System.Text.Encoding.UTF8.GetString(plain), Is.EqualTo(Message));
    }

    [Test]
    public void Authcrypt_envelope_opens_with_raw_libsodium()
    {
        var env = AuthcryptToBob(Guid.NewGuid().ToString());
        var entry = Header(env)["recipients"]![0]!;
        var senderText = Sodium.BoxSealOpen(Base64Url.Decode(entry["header"]!["sender"]!.GetValue<string>()), Bob.X25519Public, Bob.X25519Secret());
        Assert.That(System.Text.Encoding.ASCII.GetString(senderText), Is.EqualTo(Alice.Verkey));
        var cek = Sodium.BoxOpen(Base64Url.Decode(entry["encrypted_key"]!.GetValue<string>()), Base64Url.Decode(entry["header"]!["iv"]!.GetValue<string>()),
            Alice.X25519Public, Bob.X25519Secret());
        Assert.That(cek, Has.Length.EqualTo(32));
    }

    [Test]
    public void Pack_options_select_XChaCha_and_padding_and_both_unpack()
    {
        var x = Rfc0019.Pack(System.Text.Encoding.UTF8.GetBytes(Message), [Bob.Verkey], Alice, Entropy.System,
            new PackOptions { Cipher = EnvelopeCipher.XChaCha20Poly1305Ietf, PaddedBase64 = true });
        Assert.That(Base64Url.Decode(Parse(x)["iv"]!.GetValue<string>()), Has.Length.EqualTo(24));
        Assert.That(Parse(x)["tag"]!.GetValue<string>(), Does.EndWith("=="), "16-byte tag padded");
        var m = Rfc0019.Unpack(x, Holding(Bob));
        Assert.That(m.ContentCipher, Is.EqualTo("xchacha20poly1305_ietf"));
        Assert.That(m.PlaintextText, Is.EqualTo(Message));
        Assert.That(Rfc0019.Unpack(AuthcryptToBob(), Holding(Bob)).ContentCipher, Is.EqualTo("chacha20poly1305_ietf"));
    }

    // ------------------------------------------------------------------ tolerance (envelopes made without our Pack)

    [TestCase(true, false, TestName = "Unpacks padded base64url with a 12-byte iv (indy-sdk / old ACA-Py style)")]
    [TestCase(false, false, TestName = "Unpacks unpadded base64url with a 12-byte iv (ACA-Py / Credo style)")]
    [TestCase(true, true, TestName = "Unpacks a real XChaCha20 24-byte iv (aries-framework-go style)")]
    [TestCase(false, true, TestName = "Unpacks unpadded XChaCha20")]
    public void Unpacks_independently_made_envelopes(bool padded, bool xchacha)
    {
        foreach (var sender in new[] { Alice, null })
        {
            var env = ManualEnvelope.Build(System.Text.Encoding.UTF8.GetBytes(Message), [Carol, Bob], sender, new() { Padded = padded, XChaCha = xchacha });
            var m = Rfc0019.Unpack(env, Holding(Bob));
            Assert.That(m.PlaintextText, Is.EqualTo(Message));
            Assert.That(m.SenderVerkey, Is.EqualTo(sender?.Verkey));
            Assert.That(m.RecipientVerkey, Is.EqualTo(Bob.Verkey));
            Assert.That(m.ContentCipher, Is.EqualTo(xchacha ? "xchacha20poly1305_ietf" : "chacha20poly1305_ietf"));
        }
    }

    [Test]
    public void RFC_0019_MUST_decode_padded_and_unpadded_base64url_in_every_field()
    {
        // "the base64url decode implementation used MUST correctly decode padded and unpadded base64URL encoded data."
        // Re-encode iv/ciphertext/tag in the other style (the protected string is the AAD, so it stays as sent).
        var env = ManualEnvelope.Build(System.Text.Encoding.UTF8.GetBytes(Message + "x"), [Bob], Alice, new() { Padded = true });
        var o = Parse(env);
        foreach (var name in new[] { "iv", "ciphertext", "tag" })
            o[name] = Base64Url.Encode(Base64Url.Decode(o[name]!.GetValue<string>()), padded: false);
        Assert.That(Rfc0019.Unpack(o.ToJsonString(), Holding(Bob)).PlaintextText, Is.EqualTo(Message + "x"));
    }

    [TestCase("chacha20poly1305_ietf")]
    [TestCase("xchachapoly1305_ietf")]
    public void Accepts_the_enc_labels_seen_in_the_field(string enc)
    {
        // aries-framework-go anoncrypt writes chacha20poly1305_ietf; the README's output-format template misspells xchachapoly1305_ietf.
        var env = ManualEnvelope.Build("{}"u8.ToArray(), [Bob], null, new() { Enc = enc });
        Assert.That(Rfc0019.Unpack(env, Holding(Bob)).PlaintextText, Is.EqualTo("{}"));
    }

    [TestCase("authcrypt")]
    [TestCase("AUTHCRYPT")]
    public void Accepts_alg_in_any_case(string alg)
    {
        // schema.md's enum says "authcrypt"; the README examples say "Authcrypt".
        var env = ManualEnvelope.Build("{}"u8.ToArray(), [Bob], Alice, new() { Alg = alg });
        var m = Rfc0019.Unpack(env, Holding(Bob));
        Assert.That(m.Mode, Is.EqualTo(EnvelopeMode.Authcrypt));
        Assert.That(m.SenderVerkey, Is.EqualTo(Alice.Verkey));
    }

    [Test]
    public void Ignores_unknown_header_members_and_a_missing_typ()
    {
        var env = ManualEnvelope.Build("{}"u8.ToArray(), [Bob], Alice, new()
        {
            EditHeader = h => { h.Remove("typ"); h["x-extra"] = new JsonObject { ["a"] = 1 }; },
        });
        Assert.That(Rfc0019.Unpack(env, Holding(Bob)).PlaintextText, Is.EqualTo("{}"));
    }

    [Test]
    public void Unpacks_an_empty_plaintext_and_uses_the_first_held_recipient()
    {
        var env = Rfc0019.Pack(ReadOnlySpan<byte>.Empty, [Carol.Verkey, Bob.Verkey], Alice, Entropy.System);
        var m = Rfc0019.Unpack(env, Holding(Bob, Carol));
        Assert.That(m.Plaintext, Is.Empty);
        Assert.That(m.RecipientVerkey, Is.EqualTo(Carol.Verkey));
    }

    // ------------------------------------------------------------------ bad input

    [Test]
    public void Truncated_envelope_is_NotJson()
    {
        var env = AuthcryptToBob();
        Assert.That(ErrorOf(env[..(env.Length / 2)]), Is.EqualTo(EnvelopeError.NotJson));
        Assert.That(ErrorOf(env[..^1]), Is.EqualTo(EnvelopeError.NotJson));
    }

    [TestCase("", EnvelopeError.NotJson)]
    [TestCase("hello", EnvelopeError.NotJson)]
    [TestCase("{\"protected\":", EnvelopeError.NotJson)]
    [TestCase("[1,2]", EnvelopeError.Malformed)]
    [TestCase("\"protected\"", EnvelopeError.Malformed)]
    [TestCase("{}", EnvelopeError.MissingField)]
    [TestCase("{\"protected\":null,\"iv\":\"\",\"ciphertext\":\"\",\"tag\":\"\"}", EnvelopeError.MissingField)]
    [TestCase("{\"protected\":1,\"iv\":\"\",\"ciphertext\":\"\",\"tag\":\"\"}", EnvelopeError.Malformed)]
    [TestCase("{\"protected\":\"!!\",\"iv\":\"AAAAAAAAAAAAAAAA\",\"ciphertext\":\"\",\"tag\":\"AAAAAAAAAAAAAAAAAAAAAA\"}", EnvelopeError.BadEncoding)]
    [TestCase("{\"protected\":\"bm90IGpzb24\",\"iv\":\"AAAAAAAAAAAAAAAA\",\"ciphertext\":\"\",\"tag\":\"AAAAAAAAAAAAAAAAAAAAAA\"}", EnvelopeError.Malformed)]
    public void Non_envelopes_are_rejected(string input, EnvelopeError expected)
    {
        Assert.That(ErrorOf(input), Is.EqualTo(expected));
        var bytes = System.Text.Encoding.UTF8.GetBytes(input);
        Assert.DoesNotThrow(() => Rfc0019.LooksLikeEnvelope(bytes));
    }

    [Test]
    public void Wrong_key_is_NoMatchingRecipient()
    {
        Assert.That(ErrorOf(AuthcryptToBob(), Holding(Carol)), Is.EqualTo(EnvelopeError.NoMatchingRecipient));
        Assert.That(ErrorOf(AuthcryptToBob(), _ => null), Is.EqualTo(EnvelopeError.NoMatchingRecipient));
    }

    [Test]
    public void A_lookup_that_returns_another_key_is_refused()
        => Assert.That(ErrorOf(AuthcryptToBob(), _ => Carol), Is.EqualTo(EnvelopeError.NoMatchingRecipient));

    [Test]
    public void Tampered_tag_or_ciphertext_or_iv_fails_content_decryption()
    {
        foreach (var env in new[] { AuthcryptToBob(), Rfc0019.Pack(Message, [Bob.Verkey], null, Entropy.System) })
        {
            Assert.That(ErrorOf(FlipBitIn(env, "tag", 5)), Is.EqualTo(EnvelopeError.ContentDecryptFailed));
            Assert.That(ErrorOf(FlipBitIn(env, "ciphertext", 7)), Is.EqualTo(EnvelopeError.ContentDecryptFailed));
            Assert.That(ErrorOf(FlipBitIn(env, "iv", 3)), Is.EqualTo(EnvelopeError.ContentDecryptFailed));
        }
    }

    [Test]
    public void Tampered_protected_header_fails_because_it_is_the_AAD()
    {
        var env = Rfc0019.Pack(Message, [Bob.Verkey, Carol.Verkey], Alice, Entropy.System);
        Assert.That(ErrorOf(WithHeader(env, h => h["typ"] = "JWM/2.0")), Is.EqualTo(EnvelopeError.ContentDecryptFailed));
        Assert.That(ErrorOf(WithHeader(env, h =>
        {
            var r = h["recipients"]!.AsArray();
            var first = r[0]!.DeepClone();
            r.RemoveAt(0);
            r.Add(first);
        })), Is.EqualTo(EnvelopeError.ContentDecryptFailed), "recipient order is authenticated too");

        // Same header bytes, other padding style: the AAD is the string as sent, so this fails as well.
        var raw = Base64Url.Decode(Parse(env)["protected"]!.GetValue<string>());
        if (raw.Length % 3 != 0)
            Assert.That(ErrorOf(WithField(env, "protected", Base64Url.Encode(raw, padded: true))), Is.EqualTo(EnvelopeError.ContentDecryptFailed));
    }

    [Test]
    public void Tampered_encrypted_key_or_sender_fails_before_the_content()
    {
        var env = AuthcryptToBob();
        Assert.That(ErrorOf(WithHeader(env, h => FlipInHeader(h, "encrypted_key"))), Is.EqualTo(EnvelopeError.RecipientKeyDecryptFailed));
        Assert.That(ErrorOf(WithHeader(env, h => FlipInHeader(h, "sender"))), Is.EqualTo(EnvelopeError.SenderKeyInvalid));
        Assert.That(ErrorOf(WithHeader(env, h => FlipInHeader(h, "iv"))), Is.EqualTo(EnvelopeError.RecipientKeyDecryptFailed));
        var anon = Rfc0019.Pack(Message, [Bob.Verkey], null, Entropy.System);
        Assert.That(ErrorOf(WithHeader(anon, h => FlipInHeader(h, "encrypted_key"))), Is.EqualTo(EnvelopeError.RecipientKeyDecryptFailed));
    }

    private static void FlipInHeader(JsonObject header, string name)
    {
        var entry = header["recipients"]![0]!.AsObject();
        var holder = name == "encrypted_key" ? entry : entry["header"]!.AsObject();
        var bytes = Base64Url.Decode(holder[name]!.GetValue<string>());
        bytes[^1] ^= 0x80;
        holder[name] = Base64Url.Encode(bytes);
    }

    [Test]
    public void Authcrypt_sender_must_be_a_32_byte_base58_verkey_that_the_box_opens_with()
    {
        var plaintext = "{}"u8.ToArray();
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], Alice, new() { SenderText = "not base58 0OIl" })), Is.EqualTo(EnvelopeError.SenderKeyInvalid));
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], Alice, new() { SenderText = Base58.Encode(new byte[31]) })), Is.EqualTo(EnvelopeError.SenderKeyInvalid));
        // A valid verkey, but not the one whose secret made the crypto_box: the box must not open.
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], Alice, new() { SenderText = Carol.Verkey })), Is.EqualTo(EnvelopeError.RecipientKeyDecryptFailed));
        // A 32-byte value that is no usable key: the identity point (y = 1), of small order.
        var notAPoint = new byte[32];
        notAPoint[0] = 1;
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], Alice, new() { SenderText = Base58.Encode(notAPoint) })), Is.EqualTo(EnvelopeError.SenderKeyInvalid));
    }

    [Test]
    public void Structural_strictness()
    {
        var plaintext = "{}"u8.ToArray();
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob, Bob], Alice)), Is.EqualTo(EnvelopeError.Malformed), "duplicate kid");
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], Alice, new() { Alg = "Anoncrypt" })), Is.EqualTo(EnvelopeError.Malformed), "sender under Anoncrypt");
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], null, new() { Alg = "Authcrypt" })), Is.EqualTo(EnvelopeError.MissingField), "Authcrypt without sender");
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], Alice, new() { EditHeader = h => h["recipients"]![0]!["header"]!.AsObject().Remove("iv") })),
            Is.EqualTo(EnvelopeError.MissingField), "Authcrypt without cek iv");
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], Alice, new() { Alg = "ECDH-1PU+A256KW" })), Is.EqualTo(EnvelopeError.UnsupportedAlgorithm));
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], null, new() { Enc = "A256GCM" })), Is.EqualTo(EnvelopeError.UnsupportedAlgorithm));
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], null, new() { EditHeader = h => h.Remove("enc") })), Is.EqualTo(EnvelopeError.MissingField));
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], null, new() { EditHeader = h => h.Remove("alg") })), Is.EqualTo(EnvelopeError.MissingField));
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], null, new() { EditHeader = h => h["recipients"] = new JsonArray() })), Is.EqualTo(EnvelopeError.Malformed));
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], null, new() { EditHeader = h => h.Remove("recipients") })), Is.EqualTo(EnvelopeError.MissingField));
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], null, new() { EditHeader = h => h["recipients"]![0]!["header"]!.AsObject().Remove("kid") })),
            Is.EqualTo(EnvelopeError.MissingField));
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], null, new() { EditHeader = h => h["recipients"]![0]!.AsObject().Remove("encrypted_key") })),
            Is.EqualTo(EnvelopeError.MissingField));
        Assert.That(ErrorOf(ManualEnvelope.Build(plaintext, [Bob], null, new() { EditHeader = h => h["recipients"]![0]!["header"]!["kid"] = 42 })),
            Is.EqualTo(EnvelopeError.Malformed));

        var env = AuthcryptToBob();
        Assert.That(ErrorOf(WithoutField(env, "tag")), Is.EqualTo(EnvelopeError.MissingField));
        Assert.That(ErrorOf(WithField(env, "iv", "!!!!")), Is.EqualTo(EnvelopeError.BadEncoding));
        Assert.That(ErrorOf(WithField(env, "iv", Base64Url.Encode(new byte[16]))), Is.EqualTo(EnvelopeError.Malformed), "iv must be 12 or 24 bytes");
        Assert.That(ErrorOf(WithField(env, "tag", Base64Url.Encode(new byte[15]))), Is.EqualTo(EnvelopeError.Malformed));
        Assert.That(ErrorOf(env.Replace("{\"protected\"", "{\"tag\":\"AAAA\",\"protected\"")), Is.EqualTo(EnvelopeError.Malformed), "duplicate member");
    }

    [Test]
    public void Oversized_envelope_is_TooLarge_without_being_parsed()
    {
        var big = "{\"pad\":\"" + new string('A', Rfc0019.MaxEnvelopeBytes) + "\"}";
        Assert.That(ErrorOf(big), Is.EqualTo(EnvelopeError.TooLarge));
        var bytes = System.Text.Encoding.ASCII.GetBytes(big);
        Assert.That(Assert.Throws<EnvelopeException>(() => Rfc0019.Unpack(bytes, Holding(Bob)))!.Error, Is.EqualTo(EnvelopeError.TooLarge));
        Assert.That(Assert.Throws<EnvelopeException>(() => Rfc0019.RecipientKids(big))!.Error, Is.EqualTo(EnvelopeError.TooLarge));
        Assert.That(Rfc0019.LooksLikeEnvelope(bytes), Is.False);
    }

    [Test]
    public void Pack_refuses_bad_recipient_lists_and_oversized_plaintext()
    {
        var e = Entropy.System;
        Assert.That(Assert.Throws<EnvelopeException>(() => Rfc0019.Pack(Message, [], Alice, e))!.Error, Is.EqualTo(EnvelopeError.InvalidKey));
        Assert.That(Assert.Throws<EnvelopeException>(() => Rfc0019.Pack(Message, [Bob.Verkey, Bob.Verkey], Alice, e))!.Error, Is.EqualTo(EnvelopeError.InvalidKey));
        Assert.That(Assert.Throws<EnvelopeException>(() => Rfc0019.Pack(Message, ["not-base58-0OIl"], Alice, e))!.Error, Is.EqualTo(EnvelopeError.InvalidKey));
        Assert.That(Assert.Throws<EnvelopeException>(() => Rfc0019.Pack(Message, [Base58.Encode(new byte[31])], Alice, e))!.Error, Is.EqualTo(EnvelopeError.InvalidKey));
        Assert.That(Assert.Throws<EnvelopeException>(() => Rfc0019.Pack(new byte[8 * 1024 * 1024], [Bob.Verkey], Alice, e))!.Error, Is.EqualTo(EnvelopeError.TooLarge));
    }

    // ------------------------------------------------------------------ determinism

    [Test]
    public void Same_seed_gives_byte_identical_envelopes()
    {
        foreach (var sender in new[] { Alice, null })
        {
            var a = Rfc0019.Pack(Message, [Bob.Verkey, Carol.Verkey], sender, Entropy.Seeded("det", "pack"));
            var b = Rfc0019.Pack(Message, [Bob.Verkey, Carol.Verkey], sender, Entropy.Seeded("det", "pack"));
            var c = Rfc0019.Pack(Message, [Bob.Verkey, Carol.Verkey], sender, Entropy.Seeded("det2", "pack"));
            Assert.That(a, Is.EqualTo(b));
            Assert.That(c, Is.Not.EqualTo(a));
            Assert.That(Rfc0019.Unpack(a, Holding(Carol)).PlaintextText, Is.EqualTo(Message));
        }
        var x1 = Rfc0019.Pack("{}"u8, [Bob.Verkey], Alice, Entropy.Seeded("det"), new PackOptions { Cipher = EnvelopeCipher.XChaCha20Poly1305Ietf });
        var x2 = Rfc0019.Pack("{}"u8, [Bob.Verkey], Alice, Entropy.Seeded("det"), new PackOptions { Cipher = EnvelopeCipher.XChaCha20Poly1305Ietf });
        Assert.That(x1, Is.EqualTo(x2));
    }

    [Test]
    public void System_entropy_gives_fresh_envelopes()
        => Assert.That(Rfc0019.Pack(Message, [Bob.Verkey], Alice, Entropy.System), Is.Not.EqualTo(Rfc0019.Pack(Message, [Bob.Verkey], Alice, Entropy.System)));

    // ------------------------------------------------------------------ routing helpers

    [Test]
    public void RecipientKids_and_LooksLikeEnvelope()
    {
        var env = Rfc0019.Pack(Message, [Carol.Verkey, Bob.Verkey], null, Entropy.System);
        Assert.That(Rfc0019.RecipientKids(env), Is.EqualTo(new[] { Carol.Verkey, Bob.Verkey }));
        Assert.That(Rfc0019.RecipientKids(System.Text.Encoding.UTF8.GetBytes(env)), Is.EqualTo(new[] { Carol.Verkey, Bob.Verkey }));
        Assert.That(Rfc0019.LooksLikeEnvelope(System.Text.Encoding.UTF8.GetBytes(env)), Is.True);
        Assert.That(Rfc0019.LooksLikeEnvelope([0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes(env)]), Is.True, "UTF-8 BOM tolerated");
        Assert.That(Rfc0019.LooksLikeEnvelope(System.Text.Encoding.UTF8.GetBytes(Message)), Is.False);
        Assert.That(Rfc0019.LooksLikeEnvelope("{\"protected\":\"a\",\"iv\":\"b\",\"ciphertext\":\"c\",\"tag\":1}"u8), Is.False);
        Assert.That(Rfc0019.LooksLikeEnvelope("{\"protected\":\"a\",\"iv\":\"b\",\"ciphertext\":\"c\",\"tag\":\"d\"} trailing"u8), Is.False);
        Assert.That(Rfc0019.LooksLikeEnvelope([]), Is.False);
        Assert.That(Rfc0019.LooksLikeEnvelope([0xFF, 0xFE]), Is.False);
        Assert.That(Assert.Throws<EnvelopeException>(() => Rfc0019.RecipientKids("nope"))!.Error, Is.EqualTo(EnvelopeError.NotJson));
    }
}
