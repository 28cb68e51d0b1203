using Conformance.Wire.Crypto;
using Conformance.Wire.Envelopes;
using static Conformance.Wire.Tests.Envelopes.EnvelopeTestKit;

namespace Conformance.Wire.Tests.Envelopes;

/// <summary>FsCheck properties of RFC 0019 pack/unpack. Keys and pack randomness come from a seed FsCheck picks, so a failure replays.</summary>
public class Rfc0019PropertyTests
{
    [FsCheck.NUnit.Property(MaxTest = 100)]
    public void Every_recipient_can_unpack_and_gets_the_plaintext_and_sender(byte[] plaintext, int bulk, byte recipientCount,
        bool authcrypt, bool xchacha, bool padded, int seed)
    {
        var entropy = Entropy.Seeded($"rt-{seed}");
        // FsCheck's arrays stay small; add up to ~20 KB from the seed so multi-block plaintexts are covered too.
        byte[] message = [.. plaintext ?? [], .. entropy.Bytes(Math.Abs(bulk % 20_000))];
        int n = 1 + recipientCount % 5;
        var recipients = Enumerable.Range(0, n).Select(_ => Ed25519KeyPair.Generate(entropy)).ToArray();
        var sender = authcrypt ? Ed25519KeyPair.Generate(entropy) : null;
        var options = new PackOptions
        {
            Cipher = xchacha ? EnvelopeCipher.XChaCha20Poly1305Ietf : EnvelopeCipher.ChaCha20Poly1305Ietf,
            PaddedBase64 = padded,
        };

        var envelope = Rfc0019.Pack(message, recipients.Select(r => r.Verkey).ToArray(), sender, entropy, options);

        Assert.That(Rfc0019.RecipientKids(envelope), Is.EqualTo(recipients.Select(r => r.Verkey)));
        foreach (var r in recipients)
        {
            var m = Rfc0019.Unpack(envelope, Holding(r));
            Assert.That(m.Plaintext, Is.EqualTo(message));
            Assert.That(m.SenderVerkey, Is.EqualTo(sender?.Verkey));
            Assert.That(m.RecipientVerkey, Is.EqualTo(r.Verkey));
            Assert.That(m.Mode, Is.EqualTo(authcrypt ? EnvelopeMode.Authcrypt : EnvelopeMode.Anoncrypt));
            Assert.That(m.ContentCipher, Is.EqualTo(xchacha ? "xchacha20poly1305_ietf" : "chacha20poly1305_ietf"));
        }
        var outsider = Ed25519KeyPair.Generate(entropy);
        var e = Assert.Throws<EnvelopeException>(() => Rfc0019.Unpack(envelope, Holding(outsider)))!;
        Assert.That(e.Error, Is.EqualTo(EnvelopeError.NoMatchingRecipient));
    }

    [FsCheck.NUnit.Property(MaxTest = 100)]
    public void String_overload_packs_the_UTF8_bytes(string text, int seed)
    {
        text ??= "";
        var entropy = Entropy.Seeded($"str-{seed}");
        var bob = Ed25519KeyPair.Generate(entropy);
        var envelope = Rfc0019.Pack(text, [bob.Verkey], null, entropy);
        Assert.That(Rfc0019.Unpack(envelope, Holding(bob)).Plaintext, Is.EqualTo(System.Text.Encoding.UTF8.GetBytes(text)));
    }

    [FsCheck.NUnit.Property(MaxTest = 300)]
    public void Arbitrary_bytes_only_ever_raise_EnvelopeException(byte[] junk, string text)
    {
        var bob = Ed25519KeyPair.Generate(Entropy.Seeded("junk"));
        foreach (var attempt in new Action[]
                 {
                     () => Rfc0019.Unpack(junk ?? [], Holding(bob)),
                     () => Rfc0019.Unpack(text ?? "", Holding(bob)),
                     () => Rfc0019.RecipientKids(text ?? ""),
                 })
        {
            try { attempt(); Assert.Fail("junk unpacked"); }
            catch (EnvelopeException e) { AssertReadable(e, bob); }
        }
        Assert.DoesNotThrow(() => Rfc0019.LooksLikeEnvelope(junk ?? []));
    }
}
