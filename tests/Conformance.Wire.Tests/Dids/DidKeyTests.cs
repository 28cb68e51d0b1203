using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Tests.Dids;

public class DidKeyTests
{
    // Aries RFC 0360 §Tutorial: "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K becomes
    // did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th".
    private const string Rfc0360Verkey = "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K";
    private const string Rfc0360DidKey = "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th";

    // W3C CCG did:key specification, "A simple Ed25519 did:key value" and the DID document derived from it
    // (https://w3c-ccg.github.io/did-method-key/, Ed25519 example; the X25519 keyAgreement key is published there).
    private const string SpecDid = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    private const string SpecDerivedX25519 = "z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p";
    private const string SpecDocument = """
        {
          "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/suites/ed25519-2020/v1",
            "https://w3id.org/security/suites/x25519-2020/v1"
          ],
          "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
          "verificationMethod": [{
            "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "type": "Ed25519VerificationKey2020",
            "controller": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "publicKeyMultibase": "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
          }],
          "authentication": ["did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"],
          "assertionMethod": ["did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"],
          "capabilityDelegation": ["did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"],
          "capabilityInvocation": ["did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"],
          "keyAgreement": [{
            "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p",
            "type": "X25519KeyAgreementKey2020",
            "controller": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "publicKeyMultibase": "z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p"
          }]
        }
        """;

    [Test]
    public void Verkey_to_did_key_matches_RFC0360()
    {
        Assert.That(DidKey.FromVerkey(Rfc0360Verkey), Is.EqualTo(Rfc0360DidKey));
        Assert.That(DidKey.ToVerkey(Rfc0360DidKey), Is.EqualTo(Rfc0360Verkey));
        Assert.That(DidKey.FromEd25519(Base58.Decode(Rfc0360Verkey)), Is.EqualTo(Rfc0360DidKey));
        var (codec, key) = DidKey.Parse(Rfc0360DidKey);
        Assert.That(codec, Is.EqualTo(KeyCodec.Ed25519Pub));
        Assert.That(Base58.Encode(key), Is.EqualTo(Rfc0360Verkey));
    }

    [Test]
    public void Ed25519_did_key_document_matches_the_did_key_spec_example()
    {
        var doc = DidKey.Resolve(SpecDid);
        var expected = JsonNode.Parse(SpecDocument)!;
        Assert.That(doc.Json.ToJsonString(), Is.EqualTo(expected.ToJsonString()));
        Assert.That(doc.KeyAgreement.Single().Multibase, Is.EqualTo(SpecDerivedX25519));
        Assert.That(doc.Authentication.Single().Id, Is.EqualTo(SpecDid + "#" + SpecDid[8..]));
        Assert.That(doc.Relationship("capabilityInvocation").Single(), Is.EqualTo(doc.Authentication.Single()));
    }

    [Test]
    public void Derived_X25519_agrees_with_libsodium_and_with_the_secret_key_conversion()
    {
        // Cross-check the spec's derived key with libsodium directly…
        var (_, ed) = DidKey.Parse(SpecDid);
        Assert.That(Multibase.EncodeKey(KeyCodec.X25519Pub, Sodium.Ed25519PublicToX25519(ed)), Is.EqualTo(SpecDerivedX25519));
        // …and for a key pair: the did:key keyAgreement key is the public half of the converted secret key.
        var kp = Ed25519KeyPair.FromSeed(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        var agreement = DidKey.Resolve(DidKey.FromEd25519(kp.PublicKey)).KeyAgreement.Single();
        Assert.That(agreement.Codec, Is.EqualTo(KeyCodec.X25519Pub));
        Assert.That(agreement.PublicKey, Is.EqualTo(Sodium.X25519PublicFromSecret(kp.X25519Secret())));
    }

    [Test]
    public void Fragment_names_the_key_itself_or_its_derived_agreement_key()
    {
        Assert.That(DidKey.Parse(SpecDid + "#" + SpecDid[8..]).Codec, Is.EqualTo(KeyCodec.Ed25519Pub));
        var (codec, x) = DidKey.Parse(SpecDid + "#" + SpecDerivedX25519);
        Assert.That(codec, Is.EqualTo(KeyCodec.X25519Pub));
        Assert.That(Multibase.EncodeKey(KeyCodec.X25519Pub, x), Is.EqualTo(SpecDerivedX25519));
        Assert.Throws<DidException>(() => DidKey.Parse(SpecDid + "#z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc"));
        Assert.Throws<DidException>(() => DidKey.Parse(SpecDid + "#key-1"));
        // A verkey is an Ed25519 key: the X25519 fragment is not one.
        Assert.That(Assert.Throws<DidException>(() => DidKey.ToVerkey(SpecDid + "#" + SpecDerivedX25519))!.Message, Does.Contain("not an Ed25519 verkey"));
        Assert.That(DidKey.Resolve(SpecDid + "#" + SpecDerivedX25519).Id, Is.EqualTo(SpecDid));
    }

    [Test]
    public void X25519_did_key_has_only_key_agreement()
    {
        var (_, x) = DidKey.Parse("did:key:" + SpecDerivedX25519);
        Assert.That(DidKey.FromX25519(x), Is.EqualTo("did:key:" + SpecDerivedX25519));
        var doc = DidKey.Resolve("did:key:" + SpecDerivedX25519);
        Assert.That(doc.Authentication, Is.Empty);
        Assert.That(doc.KeyAgreement.Single().Multibase, Is.EqualTo(SpecDerivedX25519));
        Assert.That(doc.KeyAgreement.Single().Type, Is.EqualTo("X25519KeyAgreementKey2020"));
        Assert.Throws<DidException>(() => DidKey.ToVerkey("did:key:" + SpecDerivedX25519));
    }

    [Test]
    public void Verification_method_exposes_verkey_multibase_and_did_key()
    {
        var m = DidKey.Resolve(Rfc0360DidKey).Authentication.Single();
        Assert.That(m.Verkey, Is.EqualTo(Rfc0360Verkey));
        Assert.That(m.Multibase, Is.EqualTo(Rfc0360DidKey[8..]));
        Assert.That(m.AsDidKey, Is.EqualTo(Rfc0360DidKey));
        Assert.That(m, Is.EqualTo(DidKey.Resolve(Rfc0360DidKey).Authentication.Single()), "value equality over the key bytes");
    }
}
