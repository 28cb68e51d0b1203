using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Conformance.Wire.Crypto;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Tests.Dids;

public class DidPeerTests
{
    private static string CoreMd => File.ReadAllText(Path.Combine(TestPaths.Shared, "specs", "peer-did", "core.md"));

    /// <summary>The first ```json block after <paramref name="heading"/> in core.md.</summary>
    private static JsonObject JsonBlockAfter(string heading)
    {
        var md = CoreMd;
        var at = md.IndexOf(heading, StringComparison.Ordinal);
        Assert.That(at, Is.GreaterThanOrEqualTo(0), heading);
        var start = md.IndexOf("```json", at, StringComparison.Ordinal) + "```json".Length;
        var end = md.IndexOf("```", start, StringComparison.Ordinal);
        return JsonNode.Parse(md[start..end])!.AsObject();
    }

    [Test]
    public void Numalgo0_is_the_did_key_of_the_same_key()
    {
        // core.md, Method 0: "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH is equivalent to
        // did:peer:0z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH".
        const string didKey = "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH";
        const string peer0 = "did:peer:0z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH";
        var (_, key) = DidKey.Parse(didKey);
        Assert.That(DidPeer.Numalgo0(key), Is.EqualTo(peer0));

        var doc = DidPeer.Resolve(peer0);
        var keyDoc = DidKey.Resolve(didKey);
        Assert.That(doc.Id, Is.EqualTo(peer0));
        Assert.That(doc.Authentication.Single().PublicKey, Is.EqualTo(key));
        Assert.That(doc.KeyAgreement.Single().Multibase, Is.EqualTo(keyDoc.KeyAgreement.Single().Multibase));
        Assert.That(doc.Authentication.Single().Id, Is.EqualTo(peer0 + "#z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"));
    }

    [Test]
    public void Numalgo1_matches_Credo_fixture_and_resolves_only_against_its_document()
    {
        // credo-ts packages/core/src/modules/dids/methods/peer/__tests__/__fixtures__/didPeer1zQmR.json; Credo's
        // peerDidNumAlgo1.test.ts asserts didDocumentJsonToNumAlgo1Did(fixture) === fixture.id.
        const string fixture = """
            {
              "@context": ["https://w3id.org/did/v1"],
              "id": "did:peer:1zQmXv3d2vqC2Q9JrnrFqqj5h8vzcNAumL1UZbb1TGh58j2c",
              "authentication": [
                { "id": "#6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V", "type": "Ed25519VerificationKey2018", "publicKeyBase58": "ByHnpUCFb1vAfh9CFZ8ZkmUZguURW8nSw889hy6rD8L7" },
                { "id": "#6MkgoLTnTypo3tDRwCkZXSccTPHRLhF4ZnjhueYAFpEX6vg", "type": "Ed25519VerificationKey2018", "publicKeyBase58": "3M5RCDjPTWPkKSN3sxUmmMqHbmRPegYP1tjcKyrDbt9J" }
              ],
              "keyAgreement": [
                { "id": "#6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc", "type": "X25519KeyAgreementKey2019", "publicKeyBase58": "JhNWeSVLMYccCk7iopQW4guaSJTojqpMEELgSLhKwRr" }
              ],
              "service": [
                { "id": "#service-0", "type": "DIDCommMessaging", "serviceEndpoint": "https://example.com/endpoint",
                  "routingKeys": ["did:example:somemediator#somekey"], "accept": ["didcomm/v2", "didcomm/aip2;env=rfc587"] }
              ]
            }
            """;
        const string did = "did:peer:1zQmXv3d2vqC2Q9JrnrFqqj5h8vzcNAumL1UZbb1TGh58j2c";
        var doc = DidDocument.Parse(fixture);
        Assert.That(DidPeer.Numalgo1(doc), Is.EqualTo(did));

        var resolved = DidPeer.Resolve(did, doc);
        Assert.That(resolved.Id, Is.EqualTo(did));
        Assert.That(resolved.Authentication, Has.Count.EqualTo(2));
        // The key ids are the did:key fingerprints: the base58 keys must be those keys.
        Assert.That(resolved.Authentication.Select(m => "#" + m.Multibase[1..]), Is.EqualTo(resolved.Authentication.Select(m => m.Id[did.Length..])));
        Assert.That(resolved.KeyAgreement.Single().Multibase, Is.EqualTo("z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc"));

        // The stored variant (no id) gives the same DID; any change to the document does not.
        var stored = doc.Json.DeepClone().AsObject();
        stored.Remove("id");
        Assert.That(DidPeer.Numalgo1(DidDocument.FromJson(stored)), Is.EqualTo(did));
        var tampered = stored.DeepClone().AsObject();
        tampered["service"]![0]!["serviceEndpoint"] = "https://evil.example/endpoint";
        var e = Assert.Throws<DidException>(() => DidPeer.Resolve(did, DidDocument.FromJson(tampered)));
        Assert.That(e!.Message, Does.Contain("does not match the SHA-256 hash"));
        Assert.Throws<DidException>(() => DidPeer.Resolve(did));
    }

    [Test]
    public void Numalgo1_accepts_Python_ensure_ascii_serialization_of_non_ascii_text()
    {
        // Python's json.dumps escapes non-ASCII (\u00e9); JSON.stringify does not. Both hash the same document.
        var doc = new JsonObject { ["@context"] = "https://w3id.org/did/v1", ["label"] = "Café ☕" };
        var jsStyle = DidPeer.Numalgo1(doc);
        var pyStyle = DidPeer.Numalgo1(doc, pythonAsciiEscaping: true);
        Assert.That(jsStyle, Is.Not.EqualTo(pyStyle));
        Assert.That(DidPeer.Resolve(jsStyle, DidDocument.FromJson(doc)).Id, Is.EqualTo(jsStyle));
        Assert.That(DidPeer.Resolve(pyStyle, DidDocument.FromJson(doc)).Id, Is.EqualTo(pyStyle));
    }

    [Test]
    public void Numalgo2_resolution_follows_core_md()
    {
        var ed = Ed25519KeyPair.FromSeed(new byte[32]);
        var edMb = Multibase.EncodeKey(KeyCodec.Ed25519Pub, ed.PublicKey);
        var xMb = Multibase.EncodeKey(KeyCodec.X25519Pub, ed.X25519Public);
        var v1Service = new JsonObject
        {
            ["id"] = "#didcomm-0",
            ["type"] = "did-communication",
            ["priority"] = 0,
            ["recipientKeys"] = new JsonArray("#key-1"),
            ["routingKeys"] = new JsonArray(),
            ["serviceEndpoint"] = "http://localhost:8020",
        };
        var did = DidPeer.Numalgo2([('V', edMb), ('E', xMb), ('A', edMb)], [v1Service, new JsonObject { ["type"] = "DIDCommMessaging", ["serviceEndpoint"] = "ws://x" }]);
        var doc = DidPeer.Resolve(did);

        // "#key-N where N is an incrementing number starting at 1", in DID order; relationships by purpose code.
        Assert.That(doc.VerificationMethods.Select(m => m.Id), Is.EqualTo(new[] { did + "#key-1", did + "#key-2", did + "#key-3" }));
        Assert.That(doc.Json["authentication"]!.ToJsonString(), Is.EqualTo("[\"#key-1\"]"));
        Assert.That(doc.Json["keyAgreement"]!.ToJsonString(), Is.EqualTo("[\"#key-2\"]"));
        Assert.That(doc.Json["assertionMethod"]!.ToJsonString(), Is.EqualTo("[\"#key-3\"]"));
        // "did-communication" MUST be spelled out (no abbreviation); the explicit id is kept; the second gets "#service".
        Assert.That(doc.Json["service"]![0]!["type"]!.GetValue<string>(), Is.EqualTo("did-communication"));
        Assert.That(doc.Json["service"]![0]!["id"]!.GetValue<string>(), Is.EqualTo("#didcomm-0"));
        Assert.That(doc.Json["service"]![1]!["id"]!.GetValue<string>(), Is.EqualTo("#service"));
        Assert.That(doc.Json["service"]![1]!["type"]!.GetValue<string>(), Is.EqualTo("DIDCommMessaging"));
        var services = doc.DidCommServices();
        Assert.That(services[0].RecipientKeys, Is.EqualTo(new[] { ed.Verkey }));
        Assert.That(services[1].RecipientKeys, Is.EqualTo(new[] { Base58.Encode(ed.X25519Public) }));

        // The DID carries the abbreviated service: {"t":"dm","s":"ws://x"} for the second one.
        Assert.That(did, Does.EndWith(".S" + Base64Url.Encode("{\"t\":\"dm\",\"s\":\"ws://x\"}"u8)));
    }

    [Test]
    public void Numalgo2_service_ids_must_be_relative()
    {
        var e = Assert.Throws<DidException>(() => DidPeer.Numalgo2(
            [('V', "z6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc")],
            [new JsonObject { ["id"] = "did:example:1#svc", ["type"] = "DIDCommMessaging", ["serviceEndpoint"] = "x" }]));
        Assert.That(e!.Message, Does.Contain("MUST be relative"));
    }

    [Test]
    public void Numalgo3_example_of_core_md_needs_the_matching_did_peer_2()
    {
        // core.md, Method 3 example.
        const string peer2 = "did:peer:2.Ez6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc.Vz6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V.Vz6MkgoLTnTypo3tDRwCkZXSccTPHRLhF4ZnjhueYAFpEX6vg.SeyJ0IjoiZG0iLCJzIjoiaHR0cHM6Ly9leGFtcGxlLmNvbS9lbmRwb2ludCIsInIiOlsiZGlkOmV4YW1wbGU6c29tZW1lZGlhdG9yI3NvbWVrZXkiXSwiYSI6WyJkaWRjb21tL3YyIiwiZGlkY29tbS9haXAyO2Vudj1yZmM1ODciXX0";
        const string peer3 = "did:peer:3zQmS19jtYDvGtKVrJhQnRFpBQAx3pJ9omx2HpNrcXFuRCz9";
        Assert.That(CoreMd, Does.Contain(peer2).And.Contain(peer3));
        Assert.That(DidPeer.Numalgo2To3(peer2), Is.EqualTo(peer3));

        var doc3 = DidPeer.Resolve(peer3, DidPeer.Resolve(peer2));
        Assert.That(doc3.Id, Is.EqualTo(peer3));
        // v2.0-style service: serviceEndpoint a string, routingKeys and accept beside it.
        var svc = doc3.DidCommServices().Single();
        Assert.That(svc.Endpoint, Is.EqualTo("https://example.com/endpoint"));
        Assert.That(svc.RoutingKeys, Is.EqualTo(new[] { "did:example:somemediator#somekey" }));
        Assert.That(svc.Accept, Is.EqualTo(new[] { "didcomm/v2", "didcomm/aip2;env=rfc587" }));

        var other = DidPeer.Resolve("did:peer:2.Vz6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc");
        var e = Assert.Throws<DidException>(() => DidPeer.Resolve(peer3, other));
        Assert.That(e!.Message, Does.Contain("is not the did:peer:3 of"));
        Assert.Throws<DidException>(() => DidPeer.Resolve(peer3));
    }

    [Test]
    public void Numalgo4_long_form_example_of_core_md_resolves_to_the_documents_shown()
    {
        // core.md, Method 4: the example long form DID, and its long form and short form DID Documents.
        var longDid = Regex.Match(CoreMd, "did:peer:4zQmd8CpeFPci817KDsbSAKWcXAE2mjvCQSasRewvbSF54Bd:z[1-9A-HJ-NP-Za-km-z]+").Value;
        const string shortDid = "did:peer:4zQmd8CpeFPci817KDsbSAKWcXAE2mjvCQSasRewvbSF54Bd";
        var longDoc = DidPeer.Resolve(longDid);
        Assert.That(JsonNode.DeepEquals(longDoc.Json, JsonBlockAfter("Here is an example long form DID Document:")), Is.True, longDoc.Json.ToJsonString());
        var shortDoc = DidPeer.Resolve(shortDid, longDoc);
        Assert.That(JsonNode.DeepEquals(shortDoc.Json, JsonBlockAfter("Here is an example short form DID Document:")), Is.True, shortDoc.Json.ToJsonString());
        Assert.That(DidPeer.Numalgo4Short(longDid), Is.EqualTo(shortDid));

        // Re-encoding the decoded input document gives the same DID back.
        var input = longDoc.Json.DeepClone().AsObject();
        input.Remove("id");
        input.Remove("alsoKnownAs");
        foreach (var vm in input["verificationMethod"]!.AsArray()) vm!.AsObject().Remove("controller");
        Assert.That(DidPeer.Numalgo4(input), Is.EqualTo(longDid));
    }

    [Test]
    public void Numalgo4_input_document_rules()
    {
        Assert.That(Assert.Throws<DidException>(() => DidPeer.Numalgo4(new JsonObject { ["id"] = "did:example:1" }))!.Message,
            Does.Contain("MUST NOT include an id"));
        var absolute = new JsonObject
        {
            ["verificationMethod"] = new JsonArray(new JsonObject { ["id"] = "did:example:1#key-1", ["type"] = "Multikey", ["publicKeyMultibase"] = "z6Mkj3PUd1WjvaDhNZhhhXQdz5UnZXmS7ehtx8bsPpD47kKc" }),
        };
        Assert.That(Assert.Throws<DidException>(() => DidPeer.Numalgo4(absolute))!.Message, Does.Contain("MUST be relative"));
    }

    [Test]
    public void Numalgo4_short_form_needs_a_document_that_hashes_to_it()
    {
        var a = DidPeer.Numalgo4(new JsonObject { ["hello"] = "world" });
        var b = DidPeer.Numalgo4(new JsonObject { ["hello"] = "mars" });
        var shortA = DidPeer.Numalgo4Short(a);
        Assert.That(Assert.Throws<DidException>(() => DidPeer.Resolve(shortA))!.Message, Does.Contain("short form"));
        Assert.Throws<DidException>(() => DidPeer.Resolve(shortA, DidPeer.Resolve(b)));
        Assert.Throws<DidException>(() => DidPeer.Resolve(shortA, DidDocument.FromJson(new JsonObject { ["hello"] = "mars" })));
        Assert.That(DidPeer.Resolve(shortA, DidPeer.Resolve(a)).Id, Is.EqualTo(shortA));
    }
}
