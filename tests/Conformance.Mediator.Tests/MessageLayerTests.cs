using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.DidComm2;
using Conformance.Wire.Encoding;

namespace Conformance.Mediator.Tests;

/// <summary>The DIDComm v2 message layer: plaintext model, did:peer:2 keys, pack/unpack and layer consistency.</summary>
public class MessageLayerTests
{
    private static readonly Entropy Seeded = Entropy.Seeded("message-layer-tests");

    private static string Shared => Environment.GetEnvironmentVariable("CONFORMANCE_SHARED") is { Length: > 0 } s ? s : FindShared();

    private static string FindShared()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Conformance.sln"))) dir = dir.Parent;
        return Path.GetFullPath(Path.Combine(dir!.FullName, "..", "shared"));
    }

    /// <summary>didcomm-v2 appendix.md C.1, read from the spec markdown.</summary>
    private static string AppendixC1()
    {
        var md = File.ReadAllText(Path.Combine(Shared, "specs", "didcomm-v2", "appendix.md"));
        var start = md.IndexOf("#### C.1.", StringComparison.Ordinal);
        var open = md.IndexOf("```json", start, StringComparison.Ordinal) + "```json".Length;
        var close = md.IndexOf("```", open, StringComparison.Ordinal);
        return md[open..close];
    }

    [Test]
    public void Parses_the_spec_appendix_C1_plaintext_message()
    {
        var m = V2Message.Parse(AppendixC1());
        Assert.Multiple(() =>
        {
            Assert.That(m.Id, Is.EqualTo("1234567890"));
            Assert.That(m.Type, Is.EqualTo("https://example.com/protocols/lets_do_lunch/1.0/proposal"));
            Assert.That(m.From, Is.EqualTo("did:example:alice"));
            Assert.That(m.To, Is.EqualTo(new[] { "did:example:bob" }));
            Assert.That(m.CreatedTime, Is.EqualTo(1516269022));
            Assert.That(m.ExpiresTime, Is.EqualTo(1516385931));
            Assert.That(m.Body["messagespecificattribute"]!.GetValue<string>(), Is.EqualTo("and its value"));
            Assert.That(m.ThreadId, Is.EqualTo("1234567890"), "thid defaults to id");
        });
        // Writing and reading again keeps every field (typ is added, which the spec's C.2/C.3 payloads also carry).
        var again = JsonNode.Parse(m.ToJson())!.AsObject();
        again.Remove("typ");
        Assert.That(JsonNode.DeepEquals(again, JsonNode.Parse(AppendixC1())), Is.True, again.ToJsonString());
    }

    [Test]
    public void Keeps_extension_headers_and_attachment_json_verbatim()
    {
        const string raw = """{"id":"1","type":"https://didcomm.org/routing/2.0/forward","return_route":"all","please_ack":[""],"body":{"next":"did:x:y"},"attachments":[{"id":"a","data":{"json":{"b": 1,  "a":[2, 3]}}}]}""";
        var m = V2Message.Parse(raw);
        Assert.That(m.ReturnRoute, Is.EqualTo("all"));
        Assert.That(m.Attachments[0].JsonRaw, Is.EqualTo("""{"b": 1,  "a":[2, 3]}"""), "the raw text, spacing and order included");
        Assert.That(Encoding.UTF8.GetString(m.Attachments[0].GetBytes()!), Is.EqualTo("""{"b": 1,  "a":[2, 3]}"""));
        var back = V2Message.Parse(m.ToJson());
        Assert.That(back.Attachments[0].JsonRaw, Is.EqualTo(m.Attachments[0].JsonRaw));
        Assert.That(back.Headers["please_ack"]!.ToJsonString(), Is.EqualTo("[\"\"]"));
    }

    [TestCase("""{"type":"t"}""", "id")]
    [TestCase("""{"id":"1"}""", "type")]
    [TestCase("""{"id":1,"type":"t"}""", "'id' must be a string")]
    [TestCase("""{"id":"1","type":"t","body":[]}""", "'body' must be a JSON object")]
    [TestCase("""{"id":"1","type":"t","to":"did:x:y"}""", "'to' must be an array")]
    [TestCase("""{"id":"1","type":"t","from":"did:x:y#k"}""", "without the fragment")]
    [TestCase("""{"id":"1","type":"t","created_time":"yesterday"}""", "integer")]
    [TestCase("""{"id":"1","type":"t","typ":"application/didcomm-encrypted+json"}""", "typ")]
    [TestCase("""{"id":"1","type":"t","attachments":[{"id":"a"}]}""", "no 'data'")]
    [TestCase("""{"id":"1","type":"t","attachments":[{"data":{"links":["https://x"]}}]}""", "hash")]
    [TestCase("""[1,2]""", "JSON object")]
    [TestCase("""{"id":"1",""", "not valid JSON")]
    public void Rejects_malformed_plaintext_with_e_p_msg_and_one_line(string json, string expected)
    {
        var e = Assert.Throws<DidCommException>(() => V2Message.Parse(json))!;
        Assert.That(e.Code, Is.EqualTo(ProblemCodes.Malformed));
        Assert.That(e.Message, Does.Contain(expected));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void Absent_body_reads_as_empty_object()
    {
        // message_structure.md: "allowed the attribute to not exist when receiving" (the mediate-request example has none).
        var m = V2Message.Parse("""{"id":"123456780","type":"https://didcomm.org/coordinate-mediation/2.0/mediate-request","return_route":"all"}""");
        Assert.That(m.Body.Count, Is.Zero);
    }

    [Test]
    public void Resolver_follows_the_did_peer_2_vector_key_numbering()
    {
        // shared/vectors/did-peer-2.json (decentralized-identity/did-peer-2 test data): keys V then E, so the
        // keyAgreement key is #key-2 and the authentication key #key-1.
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Shared, "vectors", "did-peer-2.json")));
        var c = doc.RootElement.GetProperty("cases")[0];
        var did = c.GetProperty("did").GetString()!;
        var expectedAgreement = c.GetProperty("document").GetProperty("keyAgreement")[0].GetString()!;
        var expectedAuth = c.GetProperty("document").GetProperty("authentication")[0].GetString()!;
        var r = new V2Resolver();
        Assert.That(r.KeyAgreementKeys(did).Select(k => k.Kid), Is.EqualTo(new[] { did + expectedAgreement }));
        Assert.That(r.SigningKey(did + expectedAuth), Is.Not.Null);
        Assert.That(r.SenderKey(did + expectedAuth), Is.Null, "an authentication key is not a key-agreement key");
        Assert.That(r.Services(did).Select(s => s.Endpoint), Is.EqualTo(new[] { "http://example.com/didcomm", "http://example.com/another" }));
    }

    [Test]
    public void Identity_kids_are_key_1_for_X25519_and_key_2_for_Ed25519()
    {
        var id = V2Identity.Create(Seeded, ["http://127.0.0.1:1/", "ws://127.0.0.1:1/"]);
        // Resolve with the Wire library's independent did:peer:2 resolver (peer-did core.md "Resolving a did:peer:2").
        var doc = Conformance.Wire.Dids.DidPeer.Resolve(id.Did);
        Assert.That(doc.KeyAgreement.Single().Id, Is.EqualTo(id.Did + "#key-1"));
        Assert.That(doc.Authentication.Single().Id, Is.EqualTo(id.Did + "#key-2"));
        Assert.That(doc.KeyAgreement.Single().PublicKey, Is.EqualTo(id.Agreement.Public));
        Assert.That(doc.DidCommServices().Select(s => s.Endpoint), Is.EqualTo(new[] { "http://127.0.0.1:1/", "ws://127.0.0.1:1/" }));
        Assert.That(id.Agreement.Kid, Is.EqualTo(id.Did + "#key-1"));
        Assert.That(id.Authentication.Kid, Is.EqualTo(id.Did + "#key-2"));
    }

    private static (V2Identity Alice, V2Identity Bob) Pair() => (V2Identity.Create(Seeded), V2Identity.Create(Seeded));

    private static Func<string, OkpKey?> Keys(V2Identity id) => kid => kid == id.Agreement.Kid ? id.Agreement : null;

    private static V2Message Hello(string? from, string to) => new()
    {
        Id = "m-1", Type = MessageTypes.BasicMessageMessage, From = from, To = [to], Body = new JsonObject { ["content"] = "hello" },
    };

    [Test]
    public void Authcrypt_round_trip_authenticates_the_sender()
    {
        var (alice, bob) = Pair();
        var env = V2Packer.Authcrypt(Hello(alice.Did, bob.Did), alice, bob.Did, Seeded);
        var prot = JsonNode.Parse(Base64Url.Decode(JsonNode.Parse(env)!["protected"]!.GetValue<string>()))!;
        Assert.That(prot["alg"]!.GetValue<string>(), Is.EqualTo("ECDH-1PU+A256KW"));
        Assert.That(prot["skid"]!.GetValue<string>(), Is.EqualTo(alice.Did + "#key-1"));
        var u = V2Packer.Unpack(Encoding.UTF8.GetBytes(env), Keys(bob));
        Assert.Multiple(() =>
        {
            Assert.That(u.Layers, Is.EqualTo(new[] { EnvelopeKind.Authcrypt, EnvelopeKind.Plaintext }));
            Assert.That(u.SenderDid, Is.EqualTo(alice.Did));
            Assert.That(u.RecipientKid, Is.EqualTo(bob.Did + "#key-1"));
            Assert.That(u.Message.Body["content"]!.GetValue<string>(), Is.EqualTo("hello"));
        });
    }

    [TestCase(ContentAlg.XC20P, "XC20P")]
    [TestCase(ContentAlg.A256Gcm, "A256GCM")]
    [TestCase(ContentAlg.A256CbcHs512, "A256CBC-HS512")]
    public void Anoncrypt_round_trip_is_anonymous(ContentAlg enc, string name)
    {
        var (alice, bob) = Pair();
        var env = V2Packer.Anoncrypt(Hello(null, bob.Did), bob.Did, Seeded, enc);
        var u = V2Packer.Unpack(Encoding.UTF8.GetBytes(env), Keys(bob));
        Assert.That(u.Layers[0], Is.EqualTo(EnvelopeKind.Anoncrypt));
        Assert.That(u.Enc, Is.EqualTo(name));
        Assert.That(u.SenderDid, Is.Null);
        Assert.That(u.IsAuthenticated, Is.False);
    }

    [Test]
    public void Signed_then_anoncrypted_authenticates_by_signature()
    {
        var (alice, bob) = Pair();
        var jws = V2Packer.Sign(Hello(alice.Did, bob.Did), alice);
        var env = V2Packer.Anoncrypt(Encoding.UTF8.GetBytes(jws), new V2Resolver().KeyAgreementKeys(bob.Did), ContentAlg.XC20P, Seeded);
        var u = V2Packer.Unpack(Encoding.UTF8.GetBytes(env), Keys(bob));
        Assert.That(u.Layers, Is.EqualTo(new[] { EnvelopeKind.Anoncrypt, EnvelopeKind.Signed, EnvelopeKind.Plaintext }));
        Assert.That(u.SenderDid, Is.EqualTo(alice.Did));
        Assert.That(u.SignerKid, Is.EqualTo(alice.Did + "#key-2"));
    }

    [Test]
    public void From_that_does_not_match_skid_is_an_error()
    {
        // message_structure.md: "The from attribute in the plaintext message MUST match the skid attribute in the encryption layer."
        var (alice, bob) = Pair();
        var mallory = V2Identity.Create(Seeded);
        var payload = Hello(mallory.Did, bob.Did).ToUtf8();
        var env = Jwe.AuthEncrypt(payload, alice.Agreement, new V2Resolver().KeyAgreementKeys(bob.Did), Seeded);
        var e = Assert.Throws<DidCommException>(() => V2Packer.Unpack(Encoding.UTF8.GetBytes(env), Keys(bob)))!;
        Assert.That(e.Code, Is.EqualTo(ProblemCodes.Crypto));
        Assert.That(e.Message, Does.Contain("skid"));
        Assert.That(e.ReplyTo, Is.EqualTo(alice.Did), "the report goes to the DID whose key actually encrypted");
    }

    [Test]
    public void To_that_does_not_name_the_recipient_is_an_error()
    {
        // "The to attribute in the plaintext message MUST contain the kid attribute of an encrypted message."
        var (alice, bob) = Pair();
        var carol = V2Identity.Create(Seeded);
        var env = V2Packer.Authcrypt(Hello(alice.Did, carol.Did), alice, bob.Did, Seeded);
        var e = Assert.Throws<DidCommException>(() => V2Packer.Unpack(Encoding.UTF8.GetBytes(env), Keys(bob)))!;
        Assert.That(e.Message, Does.Contain("'to'"));
    }

    [Test]
    public void Signed_message_whose_from_is_not_the_signer_is_an_error()
    {
        var (alice, bob) = Pair();
        var jws = Jws.Sign(Hello(bob.Did, alice.Did).ToUtf8(), alice.Authentication);
        var e = Assert.Throws<DidCommException>(() => V2Packer.Unpack(Encoding.UTF8.GetBytes(jws), Keys(bob)))!;
        Assert.That(e.Code, Is.EqualTo(ProblemCodes.Crypto));
    }

    [TestCase("iv")]
    [TestCase("ciphertext")]
    [TestCase("tag")]
    [TestCase("protected")]
    public void Tampered_envelopes_fail_with_e_p_crypto_and_one_line(string member)
    {
        var (alice, bob) = Pair();
        var jwe = JsonNode.Parse(V2Packer.Authcrypt(Hello(alice.Did, bob.Did), alice, bob.Did, Seeded))!.AsObject();
        var value = jwe[member]!.GetValue<string>();
        // The Identus test suite tampers with "iv" by prefixing "tampered"; flipping a character is the harder case.
        jwe[member] = value[..5] + (value[5] == 'A' ? 'B' : 'A') + value[6..];
        var e = Assert.Throws<DidCommException>(() => V2Packer.Unpack(Encoding.UTF8.GetBytes(jwe.ToJsonString()), Keys(bob)))!;
        Assert.That(e.Code, Is.AnyOf(ProblemCodes.Crypto, ProblemCodes.Malformed));
        Assert.That(e.Message, Does.Not.Contain("\n").And.Not.Contain("   at "));
    }

    [Test]
    public void Unknown_did_methods_and_garbage_dids_get_did_codes()
    {
        var r = new V2Resolver();
        Assert.That(Assert.Throws<DidCommException>(() => r.KeyAgreementKeys("did:web:example.com"))!.Code, Is.EqualTo(ProblemCodes.Did));
        Assert.That(Assert.Throws<DidCommException>(() => r.KeyAgreementKeys("did:peer:2.Xgarbage"))!.Code, Is.EqualTo(ProblemCodes.DidMalformed));
        Assert.That(Assert.Throws<DidCommException>(() => r.KeyAgreementKeys("not-a-did"))!.Code, Is.EqualTo(ProblemCodes.DidMalformed));
    }

    [Test]
    public void Forward_wrapping_follows_the_routing_keys_in_reverse()
    {
        // routing.md "Sender Process to Enable Forwarding": the last routing key is wrapped first, so the first key's
        // holder unwraps the outermost forward, whose next is the second key.
        var (m1, m2) = Pair();
        var bob = V2Identity.Create(Seeded);
        var inner = V2Packer.Anoncrypt(Hello(null, bob.Did), bob.Did, Seeded);
        var wrapped = V2Routing.WrapInForward(Encoding.UTF8.GetBytes(inner), bob.Did, [m1.Did, m2.Did], Seeded);
        var outer = V2Packer.Unpack(Encoding.UTF8.GetBytes(wrapped), Keys(m1));
        Assert.That(outer.Message.Type, Is.EqualTo(MessageTypes.Forward));
        Assert.That(outer.Message.Body["next"]!.GetValue<string>(), Is.EqualTo(m2.Did));
        var second = V2Packer.Unpack(outer.Message.Attachments[0].GetBytes()!, Keys(m2));
        Assert.That(second.Message.Body["next"]!.GetValue<string>(), Is.EqualTo(bob.Did));
        Assert.That(Encoding.UTF8.GetString(second.Message.Attachments[0].GetBytes()!), Is.EqualTo(inner), "the payload is carried byte for byte");
    }

    [TestCase("https://didcomm.org/messagepickup/3.0/status", "https://didcomm.org/messagepickup", 3, 0, "status")]
    [TestCase("https://didcomm.org/basicmessage/100.0/message", "https://didcomm.org/basicmessage", 100, 0, "message")]
    public void Message_type_uris_split_into_protocol_version_and_name(string type, string protocol, int major, int minor, string name)
    {
        Assert.That(MessageTypes.TryParse(type, out var p, out var ma, out var mi, out var n), Is.True);
        Assert.That((p, ma, mi, n), Is.EqualTo((protocol, major, minor, name)));
        Assert.That(MessageTypes.TryParse("https://didcomm.org/unsupported-protocol", out _, out _, out _, out _), Is.False);
    }

    [Test]
    public void Problem_text_interpolates_args_as_report_problem_2_0_says()
    {
        // problems.md: "Missing or null args MUST be replaced with a question mark"; "extra args MUST be appended ... comma-separated".
        var m = new V2Message { Id = "1", Type = MessageTypes.ProblemReport, Body = new JsonObject { ["code"] = "e.p.x", ["comment"] = "Unable to use {1} for {2}.", ["args"] = new JsonArray("a") } };
        Assert.That(V2Problem.From(m)!.Text, Is.EqualTo("Unable to use a for ?."));
        m = new V2Message { Id = "1", Type = MessageTypes.ProblemReport, Body = new JsonObject { ["code"] = "e.p.x", ["comment"] = "Bad {1}.", ["args"] = new JsonArray("a", "b", "c") } };
        Assert.That(V2Problem.From(m)!.Text, Is.EqualTo("Bad a. b, c"));
    }
}
