using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.DidComm2;
using Conformance.Wire.Encoding;
using Text = System.Text.Encoding;

namespace Conformance.Wire.Tests.DidComm2;

/// <summary>
/// Structure, determinism, round trips and rejection paths of <see cref="Jwe"/> and <see cref="Jws"/>: what the DIDComm v2
/// encryption.md / signature.md rules require of the envelope, and that every tampering is refused with a JoseException.
/// </summary>
public class JweJwsTests
{
    private static readonly Entropy Keys = Entropy.Seeded("jwe-jws-tests");
    private static readonly OkpKey Alice = OkpKey.GenerateX25519("did:example:alice#key-x25519-1", Keys.Derive("alice"));
    private static readonly OkpKey AliceSigning = OkpKey.GenerateEd25519("did:example:alice#key-1", Keys.Derive("alice-ed"));
    private static readonly OkpKey Mallory = OkpKey.GenerateX25519("did:example:mallory#key-x25519-1", Keys.Derive("mallory"));
    private static readonly OkpKey[] Bob =
    [
        OkpKey.GenerateX25519("did:example:bob#key-x25519-2", Keys.Derive("bob-2")),
        OkpKey.GenerateX25519("did:example:bob#key-x25519-1", Keys.Derive("bob-1")),
        OkpKey.GenerateX25519("did:example:bob#key-x25519-3", Keys.Derive("bob-3")),
    ];
    private static readonly byte[] Plaintext = """{"id":"1","typ":"application/didcomm-plain+json","type":"https://didcomm.org/trust_ping/2.0/ping","body":{}}"""u8.ToArray();

    private static OkpKey? BobLookup(string kid) => Bob.FirstOrDefault(k => k.Kid == kid);
    private static OkpKey? SenderLookup(string kid) => kid == Alice.Kid ? Alice.PublicOnly() : kid == Mallory.Kid ? Mallory.PublicOnly() : null;

    public static IEnumerable<TestCaseData> Envelopes()
    {
        foreach (var enc in Enum.GetValues<ContentAlg>())
            yield return new TestCaseData(false, enc).SetArgDisplayNames("anoncrypt", enc.ToString());
        yield return new TestCaseData(true, ContentAlg.A256CbcHs512).SetArgDisplayNames("authcrypt", "A256CbcHs512");
    }

    private static string Make(bool auth, ContentAlg enc, string seed = "s") => auth
        ? Jwe.AuthEncrypt(Plaintext, Alice, Bob, Entropy.Seeded(seed))
        : Jwe.AnonEncrypt(Plaintext, Bob, enc, Entropy.Seeded(seed));

    private static JsonObject ProtectedOf(JsonObject jwe) => JsonNode.Parse(Base64Url.Decode((string)jwe["protected"]!))!.AsObject();

    private static string WithProtected(JsonObject jwe, Action<JsonObject> edit)
    {
        var copy = jwe.DeepClone().AsObject();
        var p = ProtectedOf(copy);
        edit(p);
        copy["protected"] = Base64Url.Encode(Text.UTF8.GetBytes(p.ToJsonString()));
        return copy.ToJsonString();
    }

    private static string FlipByte(JsonObject jwe, Func<JsonObject, JsonObject> owner, string member, int index = 0)
    {
        var copy = jwe.DeepClone().AsObject();
        var o = owner(copy);
        var bytes = Base64Url.Decode((string)o[member]!);
        bytes[index < 0 ? bytes.Length + index : index] ^= 0x01;
        o[member] = Base64Url.Encode(bytes);
        return copy.ToJsonString();
    }

    // ------------------------------------------------------------------ structure

    [TestCaseSource(nameof(Envelopes))]
    public void Envelope_has_the_DIDComm_v2_shape(bool auth, ContentAlg enc)
    {
        var jwe = JsonNode.Parse(Make(auth, enc))!.AsObject();
        var p = ProtectedOf(jwe);
        Assert.That((string?)p["typ"], Is.EqualTo(MediaTypes.Encrypted));
        Assert.That((string?)p["alg"], Is.EqualTo(auth ? "ECDH-1PU+A256KW" : "ECDH-ES+A256KW"));
        Assert.That((string?)p["enc"], Is.EqualTo(ContentEncryption.Name(enc)));
        Assert.That((string?)p["epk"]!["kty"], Is.EqualTo("OKP"));
        Assert.That((string?)p["epk"]!["crv"], Is.EqualTo("X25519"));
        Assert.That(p["epk"]!.AsObject().ContainsKey("d"), Is.False);
        // apv = base64url(sha256("did:example:bob#key-x25519-1.did:example:bob#key-x25519-2.did:example:bob#key-x25519-3"))
        var sorted = "did:example:bob#key-x25519-1.did:example:bob#key-x25519-2.did:example:bob#key-x25519-3";
        Assert.That((string?)p["apv"], Is.EqualTo(Base64Url.Encode(System.Security.Cryptography.SHA256.HashData(Text.UTF8.GetBytes(sorted)))));
        if (auth)
        {
            Assert.That((string?)p["skid"], Is.EqualTo(Alice.Kid));
            Assert.That(Text.UTF8.GetString(Base64Url.Decode((string)p["apu"]!)), Is.EqualTo(Alice.Kid));
        }
        else Assert.That(p.ContainsKey("apu") || p.ContainsKey("skid"), Is.False, "anoncrypt reveals no sender");

        Assert.That(jwe.ContainsKey("unprotected"), Is.False);
        var recipients = jwe["recipients"]!.AsArray();
        Assert.That(recipients.Select(r => (string?)r!["header"]!["kid"]), Is.EqualTo(Bob.Select(b => b.Kid)));
        Assert.That(recipients.Select(r => Base64Url.Decode((string)r!["encrypted_key"]!).Length),
            Is.All.EqualTo(ContentEncryption.KeyLength(enc) + 8), "A256KW output is the CEK plus 8 bytes");
        Assert.That(Base64Url.Decode((string)jwe["iv"]!), Has.Length.EqualTo(ContentEncryption.IvLength(enc)));
        Assert.That(Base64Url.Decode((string)jwe["tag"]!), Has.Length.EqualTo(ContentEncryption.TagLength(enc)));
    }

    [TestCaseSource(nameof(Envelopes))]
    public void Output_is_byte_identical_under_the_same_seed_and_differs_under_another(bool auth, ContentAlg enc)
    {
        Assert.That(Make(auth, enc, "seed-1"), Is.EqualTo(Make(auth, enc, "seed-1")));
        Assert.That(Make(auth, enc, "seed-2"), Is.Not.EqualTo(Make(auth, enc, "seed-1")));
        var a = JsonNode.Parse(Make(auth, enc, "seed-1"))!.AsObject();
        var b = JsonNode.Parse(Make(auth, enc, "seed-2"))!.AsObject();
        Assert.That((string?)ProtectedOf(a)["epk"]!["x"], Is.Not.EqualTo((string?)ProtectedOf(b)["epk"]!["x"]), "fresh ephemeral key");
        Assert.That((string?)a["iv"], Is.Not.EqualTo((string?)b["iv"]), "fresh IV");
    }

    [TestCaseSource(nameof(Envelopes))]
    public void Every_recipient_decrypts(bool auth, ContentAlg enc)
    {
        var jwe = Make(auth, enc);
        foreach (var bob in Bob)
        {
            var d = Jwe.Decrypt(jwe, kid => kid == bob.Kid ? bob : null, SenderLookup);
            Assert.That(d.Plaintext, Is.EqualTo(Plaintext));
            Assert.That(d.RecipientKid, Is.EqualTo(bob.Kid));
            Assert.That(d.SenderKid, Is.EqualTo(auth ? Alice.Kid : null));
            Assert.That(d.Enc, Is.EqualTo(ContentEncryption.Name(enc)));
        }
    }

    [Test]
    public void Jwe_without_skid_round_trips_through_apu()
    {
        // encryption.md: "authcrypt implementations MUST be able to resolve the sender kid from the apu header if skid is not set."
        var jwe = JweBuilder.AuthcryptWithoutSkid(Plaintext, Alice, Bob, Entropy.Seeded("no-skid"));
        Assert.That(ProtectedOf(JsonNode.Parse(jwe)!.AsObject()).ContainsKey("skid"), Is.False);
        var d = Jwe.Decrypt(jwe, BobLookup, SenderLookup);
        Assert.That(d.SenderKid, Is.EqualTo(Alice.Kid));
        Assert.That(d.Plaintext, Is.EqualTo(Plaintext));
    }

    [Test]
    public void Flattened_JWE_with_one_recipient_is_accepted()
    {
        var general = JsonNode.Parse(Jwe.AnonEncrypt(Plaintext, [Bob[0]], ContentAlg.A256Gcm, Entropy.Seeded("flat")))!.AsObject();
        var r = general["recipients"]![0]!.AsObject();
        var flat = new JsonObject
        {
            ["protected"] = (string)general["protected"]!, ["header"] = r["header"]!.DeepClone(), ["encrypted_key"] = (string)r["encrypted_key"]!,
            ["iv"] = (string)general["iv"]!, ["ciphertext"] = (string)general["ciphertext"]!, ["tag"] = (string)general["tag"]!,
        };
        Assert.That(Jwe.Decrypt(flat.ToJsonString(), BobLookup, SenderLookup).Plaintext, Is.EqualTo(Plaintext));
    }

    [Test]
    public void Encrypt_refuses_bad_inputs_with_JoseException()
    {
        var e = Entropy.Seeded("bad");
        Assert.Throws<JoseException>(() => Jwe.AnonEncrypt(Plaintext, [], ContentAlg.XC20P, e));
        Assert.Throws<JoseException>(() => Jwe.AnonEncrypt(Plaintext, [Bob[0], Bob[0]], ContentAlg.XC20P, e));
        Assert.Throws<JoseException>(() => Jwe.AnonEncrypt(Plaintext, [AliceSigning], ContentAlg.XC20P, e));
        Assert.Throws<JoseException>(() => Jwe.AuthEncrypt(Plaintext, Alice.PublicOnly(), Bob, e));
        Assert.Throws<JoseException>(() => Jwe.AuthEncrypt(Plaintext, AliceSigning, Bob, e));
        Assert.Throws<JoseException>(() => Jws.Sign(Plaintext, Alice));
        Assert.Throws<JoseException>(() => Jws.Sign(Plaintext, AliceSigning.PublicOnly()));
        // A low-order recipient key (the all-zero point) gives an all-zero shared secret: refused.
        Assert.Throws<JoseException>(() => Jwe.AnonEncrypt(Plaintext, [new OkpKey("did:example:x#k", "X25519", new byte[32], null)], ContentAlg.XC20P, e));
        // A secret that does not belong to the public key.
        Assert.Throws<JoseException>(() => new OkpKey("did:example:x#k", "X25519", Bob[0].Public, Bob[1].Secret));
    }

    [Test]
    public void OkpKey_never_prints_its_secret()
    {
        var s = Alice.ToString();
        Assert.That(s, Does.Contain(Alice.Kid).And.Contain("[redacted]"));
        Assert.That(s, Does.Not.Contain(Base64Url.Encode(Alice.Secret!)));
        Assert.That(s, Does.Not.Contain(Convert.ToHexString(Alice.Secret!)).IgnoreCase);
    }

    // ------------------------------------------------------------------ tampering

    [TestCaseSource(nameof(Envelopes))]
    public void Tampering_is_refused(bool auth, ContentAlg enc)
    {
        var jwe = JsonNode.Parse(Make(auth, enc))!.AsObject();
        var cases = new Dictionary<string, string>
        {
            ["tag first byte"] = FlipByte(jwe, o => o, "tag"),
            ["tag last byte"] = FlipByte(jwe, o => o, "tag", -1),
            ["ciphertext first byte"] = FlipByte(jwe, o => o, "ciphertext"),
            ["ciphertext last byte"] = FlipByte(jwe, o => o, "ciphertext", -1),
            ["iv"] = FlipByte(jwe, o => o, "iv"),
            ["encrypted_key of recipient 0"] = FlipByte(jwe, o => o["recipients"]![0]!.AsObject(), "encrypted_key", 3),
            ["encrypted_key of recipient 0, last byte"] = FlipByte(jwe, o => o["recipients"]![0]!.AsObject(), "encrypted_key", -1),
            ["protected header: typ changed"] = WithProtected(jwe, p => p["typ"] = "application/didcomm-encrypted+json "),
            ["protected header: member added"] = WithProtected(jwe, p => p["x-extra"] = 1),
            ["protected header: epk replaced"] = WithProtected(jwe, p => p["epk"]!["x"] = Base64Url.Encode(Mallory.Public)),
            ["protected header: epk low-order point"] = WithProtected(jwe, p => p["epk"]!["x"] = Base64Url.Encode(new byte[32])),
            ["protected header: apv changed"] = WithProtected(jwe, p => p["apv"] = Jwe.Apv(["did:example:bob#key-x25519-1"])),
            ["protected header: alg switched"] = WithProtected(jwe, p => p["alg"] = auth ? Jwe.AlgAnoncrypt : Jwe.AlgAuthcrypt),
            ["protected header: enc switched"] = WithProtected(jwe, p => p["enc"] = enc == ContentAlg.A256Gcm ? "XC20P" : "A256GCM"),
            ["recipient kid renamed (apv no longer matches)"] = Rename(jwe, "did:example:bob#key-x25519-9"),
        };
        if (auth)
        {
            cases["protected header: skid changed"] = WithProtected(jwe, p => p["skid"] = Mallory.Kid);
            cases["protected header: skid and apu changed to another sender"] = WithProtected(jwe, p =>
            {
                p["skid"] = Mallory.Kid;
                p["apu"] = Base64Url.Encode(Text.UTF8.GetBytes(Mallory.Kid));
            });
        }
        foreach (var (name, tampered) in cases)
        {
            // Recipient 0 is the one whose key we hold, so its entry is the one processed.
            var ex = Assert.Throws<JoseException>(() => Jwe.Decrypt(tampered, kid => kid == Bob[0].Kid ? Bob[0] : null, SenderLookup), name);
            Assert.That(ex!.Message, Does.Not.Contain("\n"), name);
        }
    }

    private static string Rename(JsonObject jwe, string kid)
    {
        var copy = jwe.DeepClone().AsObject();
        copy["recipients"]![2]!["header"]!["kid"] = kid;
        return copy.ToJsonString();
    }

    [TestCaseSource(nameof(Envelopes))]
    public void Wrong_recipient_key_is_refused(bool auth, ContentAlg enc)
    {
        var jwe = Make(auth, enc);
        // The right kid, the wrong private key.
        var impostor = OkpKey.X25519(Bob[0].Kid, Mallory.Secret!);
        Assert.Throws<JoseException>(() => Jwe.Decrypt(jwe, kid => kid == Bob[0].Kid ? impostor : null, SenderLookup));
        // Not a recipient at all.
        var e = Assert.Throws<JoseException>(() => Jwe.Decrypt(jwe, kid => kid == Mallory.Kid ? Mallory : null, SenderLookup))!;
        Assert.That(e.Message, Does.Contain("recipient"));
        // A public-only key or a signing key for the right kid.
        Assert.Throws<JoseException>(() => Jwe.Decrypt(jwe, kid => kid == Bob[0].Kid ? Bob[0].PublicOnly() : null, SenderLookup));
        Assert.Throws<JoseException>(() => Jwe.Decrypt(jwe, kid => kid == Bob[0].Kid ? OkpKey.Ed25519(Bob[0].Kid, Bob[0].Secret!) : null, SenderLookup));
    }

    [Test]
    public void Wrong_or_unknown_sender_key_is_refused_for_authcrypt()
    {
        var jwe = Make(true, ContentAlg.A256CbcHs512);
        Assert.Throws<JoseException>(() => Jwe.Decrypt(jwe, BobLookup, _ => Mallory.PublicOnly()));
        Assert.Throws<JoseException>(() => Jwe.Decrypt(jwe, BobLookup, _ => null));
        Assert.Throws<JoseException>(() => Jwe.Decrypt(jwe, BobLookup, _ => AliceSigning.PublicOnly()));
    }

    [Test]
    public void Authcrypt_with_a_non_CBC_HMAC_content_algorithm_is_refused()
    {
        var jwe = JsonNode.Parse(Make(true, ContentAlg.A256CbcHs512))!.AsObject();
        var e = Assert.Throws<JoseException>(() => Jwe.Decrypt(WithProtected(jwe, p => p["enc"] = "A256GCM"), BobLookup, SenderLookup))!;
        Assert.That(e.Message, Does.Contain("A256CBC-HS512"));
    }

    [Test]
    public void Malformed_envelopes_give_clear_JoseExceptions()
    {
        var jwe = JsonNode.Parse(Make(false, ContentAlg.XC20P))!.AsObject();
        var cases = new Dictionary<string, (string Input, string MessagePart)>
        {
            ["not JSON"] = ("hello", "JSON"),
            ["JSON array"] = ("[]", "object"),
            ["compact serialization"] = ("a.b.c.d.e", "compact"),
            ["duplicate member"] = (jwe.ToJsonString().Replace("\"iv\":", "\"tag\":\"AAAA\",\"iv\":").Replace("{\"protected\"", "{\"tag\":\"AA\",\"protected\""), "JSON"),
            ["no protected"] = (Without(jwe, "protected"), "protected"),
            ["no recipients"] = (Without(jwe, "recipients"), "recipients"),
            ["empty recipients"] = (With(jwe, "recipients", new JsonArray()), "recipients"),
            ["recipients not an array"] = (With(jwe, "recipients", "x"), "recipients"),
            ["iv not base64url"] = (With(jwe, "iv", "!!!"), "base64url"),
            ["tag not a string"] = (With(jwe, "tag", 5), "tag"),
            ["protected not JSON"] = (With(jwe, "protected", Base64Url.Encode("nope"u8)), "protected"),
            ["alg only unprotected"] = (MoveToUnprotected(jwe, "alg"), "protected"),
            ["header in two places"] = (With(jwe, "unprotected", new JsonObject { ["typ"] = "x" }), "both"),
            ["crit"] = (WithProtected(jwe, p => p["crit"] = new JsonArray("exp")), "crit"),
            ["zip"] = (WithProtected(jwe, p => p["zip"] = "DEF"), "zip"),
            ["unknown alg"] = (WithProtected(jwe, p => p["alg"] = "RSA-OAEP"), "alg"),
            ["unknown enc"] = (WithProtected(jwe, p => p["enc"] = "A128GCM"), "enc"),
            ["wrong typ"] = (WithProtected(jwe, p => p["typ"] = "application/didcomm-signed+json"), "typ"),
            ["NIST epk"] = (WithProtected(jwe, p => p["epk"] = new JsonObject { ["kty"] = "EC", ["crv"] = "P-256", ["x"] = "AA", ["y"] = "AA" }), "out of scope"),
            ["epk with d"] = (WithProtected(jwe, p => p["epk"]!["d"] = "AAAA"), "private"),
            ["epk short"] = (WithProtected(jwe, p => p["epk"]!["x"] = "AAAA"), "32 bytes"),
            ["no apv"] = (WithProtected(jwe, p => p.Remove("apv")), "apv"),
            ["recipient without kid"] = (WithoutKid(jwe), "kid"),
        };
        foreach (var (name, (input, part)) in cases)
        {
            var e = Assert.Throws<JoseException>(() => Jwe.Decrypt(input, BobLookup, SenderLookup), name)!;
            Assert.That(e.Message, Does.Contain(part).IgnoreCase, name);
            Assert.That(e.Message, Does.Not.Contain("\n"), name);
        }
    }

    [Test]
    public void Typ_without_the_application_prefix_is_accepted()
    {
        // message_structure.md: "the recipient MUST treat media types not containing / as having the application/ prefix present."
        var jwe = JweBuilder.AnoncryptWithProtectedEdit(Plaintext, Bob, Entropy.Seeded("typ"), p => p["typ"] = "didcomm-encrypted+json");
        Assert.That(Jwe.Decrypt(jwe, BobLookup, SenderLookup).Plaintext, Is.EqualTo(Plaintext));
    }

    private static string Without(JsonObject o, string member) { var c = o.DeepClone().AsObject(); c.Remove(member); return c.ToJsonString(); }
    private static string With(JsonObject o, string member, JsonNode? value) { var c = o.DeepClone().AsObject(); c[member] = value; return c.ToJsonString(); }

    private static string MoveToUnprotected(JsonObject jwe, string member)
    {
        var p = ProtectedOf(jwe);
        var value = p[member]!.DeepClone();
        p.Remove(member);
        var c = jwe.DeepClone().AsObject();
        c["protected"] = Base64Url.Encode(Text.UTF8.GetBytes(p.ToJsonString()));
        c["unprotected"] = new JsonObject { [member] = value };
        return c.ToJsonString();
    }

    private static string WithoutKid(JsonObject jwe)
    {
        var c = jwe.DeepClone().AsObject();
        c["recipients"]![1]!["header"]!.AsObject().Remove("kid");
        return c.ToJsonString();
    }

    // ------------------------------------------------------------------ JWS

    [Test]
    public void Jws_round_trips_in_general_and_flattened_form()
    {
        var jws = Jws.Sign(Plaintext, AliceSigning);
        var general = JsonNode.Parse(jws)!.AsObject();
        var p = JsonNode.Parse(Base64Url.Decode((string)general["signatures"]![0]!["protected"]!))!;
        Assert.That((string?)p["typ"], Is.EqualTo(MediaTypes.Signed));
        Assert.That((string?)p["alg"], Is.EqualTo("EdDSA"));
        Assert.That((string?)general["signatures"]![0]!["header"]!["kid"], Is.EqualTo(AliceSigning.Kid));

        var v = Jws.Verify(jws, kid => kid == AliceSigning.Kid ? AliceSigning.PublicOnly() : null);
        Assert.That(v.Payload, Is.EqualTo(Plaintext));
        Assert.That(v.Kid, Is.EqualTo(AliceSigning.Kid));

        var sig = general["signatures"]![0]!.AsObject();
        var flat = new JsonObject
        {
            ["payload"] = (string)general["payload"]!, ["protected"] = (string)sig["protected"]!,
            ["header"] = sig["header"]!.DeepClone(), ["signature"] = (string)sig["signature"]!,
        };
        Assert.That(Jws.Verify(flat.ToJsonString(), _ => AliceSigning.PublicOnly()).Payload, Is.EqualTo(Plaintext));
    }

    [Test]
    public void Jws_tampering_and_bad_keys_are_refused()
    {
        var jws = JsonNode.Parse(Jws.Sign(Plaintext, AliceSigning))!.AsObject();
        OkpKey? Lookup(string kid) => kid == AliceSigning.Kid ? AliceSigning.PublicOnly() : null;
        var other = OkpKey.GenerateEd25519(AliceSigning.Kid, Keys.Derive("other-ed"));
        var cases = new Dictionary<string, (string Jws, Func<string, OkpKey?> Lookup)>
        {
            ["payload changed"] = (With(jws, "payload", Base64Url.Encode("{}"u8)), Lookup),
            ["payload bit flip"] = (FlipByte(jws, o => o, "payload", 5), Lookup),
            ["signature bit flip"] = (FlipByte(jws, o => o["signatures"]![0]!.AsObject(), "signature", 10), Lookup),
            ["protected changed"] = (EditSig(jws, s => s["protected"] = Base64Url.Encode("""{"typ":"application/didcomm-signed+json","alg":"EdDSA","x":1}"""u8)), Lookup),
            ["alg none"] = (EditSig(jws, s => s["protected"] = Base64Url.Encode("""{"alg":"none"}"""u8)), Lookup),
            ["crit"] = (EditSig(jws, s => s["protected"] = Base64Url.Encode("""{"alg":"EdDSA","crit":["b64"],"b64":false}"""u8)), Lookup),
            ["kid unknown"] = (EditSig(jws, s => s["header"]!["kid"] = "did:example:alice#nope"), Lookup),
            ["no kid"] = (EditSig(jws, s => s.Remove("header")), Lookup),
            ["wrong key"] = (jws.ToJsonString(), _ => other.PublicOnly()),
            ["X25519 key"] = (jws.ToJsonString(), _ => Alice.PublicOnly()),
            ["two signatures"] = (With(jws, "signatures", new JsonArray(jws["signatures"]![0]!.DeepClone(), jws["signatures"]![0]!.DeepClone())), Lookup),
            ["no signatures"] = (With(jws, "signatures", new JsonArray()), Lookup),
            ["compact"] = ("a.b.c", Lookup),
            ["wrong typ"] = (EditSig(jws, s => s["protected"] = Base64Url.Encode("""{"typ":"application/didcomm-encrypted+json","alg":"EdDSA"}"""u8)), Lookup),
        };
        foreach (var (name, (input, lookup)) in cases)
        {
            var e = Assert.Throws<JoseException>(() => Jws.Verify(input, lookup), name)!;
            Assert.That(e.Message, Does.Not.Contain("\n"), name);
        }
    }

    private static string EditSig(JsonObject jws, Action<JsonObject> edit)
    {
        var c = jws.DeepClone().AsObject();
        edit(c["signatures"]![0]!.AsObject());
        return c.ToJsonString();
    }
}
