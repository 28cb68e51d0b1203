using System.Text.Json.Nodes;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Tests.Dids;

/// <summary>One <see cref="DidCommService"/> view over the service shapes of RFC 0160, RFC 0067 and DIDComm v2.</summary>
public class DidCommServicesTests
{
    // RFC 0360 example key (verkey 8HH5g…); RFC 0211 example routing key; RFC 0434 example recipient key.
    private const string Verkey = "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K";
    private const string DidKeyOfVerkey = "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th";
    private const string MediatorDidKey = "did:key:z6Mkfriq1MqLBoPWecGoDLjguo1sB9brj6wT3qZ5BxkKpuP6";
    private const string OtherDidKey = "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH";

    private static JsonObject Doc(string id, params JsonObject[] services) => new()
    {
        ["@context"] = new JsonArray("https://www.w3.org/ns/did/v1"),
        ["id"] = id,
        ["verificationMethod"] = new JsonArray(new JsonObject
        {
            ["id"] = "#key-1",
            ["type"] = "Ed25519VerificationKey2018",
            ["controller"] = id,
            ["publicKeyBase58"] = Verkey,
        }),
        ["authentication"] = new JsonArray("#key-1"),
        ["service"] = new JsonArray(services),
    };

    private static JsonObject V1Service(string id, int priority, params string[] recipientKeys) => new()
    {
        ["id"] = id,
        ["type"] = "did-communication",
        ["priority"] = priority,
        ["recipientKeys"] = new JsonArray(recipientKeys.Select(k => (JsonNode?)k).ToArray()),
        ["routingKeys"] = new JsonArray(MediatorDidKey),
        ["accept"] = new JsonArray("didcomm/aip2;env=rfc19"),
        ["serviceEndpoint"] = "https://agent.example.com/",
    };

    [Test]
    public void Legacy_IndyAgent_service_of_RFC0160()
    {
        var doc = DidDocument.FromJson(LegacyDidDoc.Create("QUmsj7xwB82QAuuzfmvhAi", "DoDMNYwMrSN8ygGKabgz5fLA9aWV4Vi8SLX6CiyN2H4a", "http://192.168.65.3:8030", []));
        var s = doc.DidCommServices().Single();
        Assert.That(s, Is.EqualTo(new DidCommService("did:sov:QUmsj7xwB82QAuuzfmvhAi;indy", "IndyAgent", "http://192.168.65.3:8030",
            ["DoDMNYwMrSN8ygGKabgz5fLA9aWV4Vi8SLX6CiyN2H4a"], [], [], 0)));
        Assert.That(s.IsV2, Is.False);
    }

    [Test]
    public void Did_communication_with_did_key_recipients_and_routing_keys()
    {
        var doc = DidDocument.FromJson(Doc("did:example:alice", V1Service("#didcomm-0", 0, DidKeyOfVerkey)));
        var s = doc.DidCommServices().Single();
        Assert.That(s.Id, Is.EqualTo("did:example:alice#didcomm-0"));
        Assert.That(s.RecipientKeys, Is.EqualTo(new[] { Verkey }));
        Assert.That(s.RoutingKeys, Is.EqualTo(new[] { MediatorDidKey }), "routing keys are returned as given");
        Assert.That(s.Accept, Is.EqualTo(new[] { "didcomm/aip2;env=rfc19" }));
        Assert.That(s.Endpoint, Is.EqualTo("https://agent.example.com/"));
    }

    [TestCase("#key-1")]                        // ACA-Py / Credo did:peer:2 and :4 documents
    [TestCase("did:example:alice#key-1")]       // RFC 0067: "did key references"
    [TestCase("key-1")]                         // bare legacy id
    [TestCase(Verkey)]                          // raw base58 (IndyAgent style)
    [TestCase(DidKeyOfVerkey)]                  // RFC 0360
    public void Every_v1_recipient_key_form_resolves_to_the_verkey(string recipientKey)
    {
        var doc = DidDocument.FromJson(Doc("did:example:alice", V1Service("#didcomm-0", 0, recipientKey)));
        Assert.That(doc.DidCommServices().Single().RecipientKeys, Is.EqualTo(new[] { Verkey }));
    }

    [Test]
    public void Sov_reference_into_unqualified_document()
    {
        // RFC 0067 writes recipient keys as DID references ("did:sov:xyz#1"); Credo's legacy doc ids are unqualified.
        var json = Doc("QUmsj7xwB82QAuuzfmvhAi", V1Service("QUmsj7xwB82QAuuzfmvhAi#svc", 0, "did:sov:QUmsj7xwB82QAuuzfmvhAi#key-1"));
        Assert.That(DidDocument.FromJson(json).DidCommServices().Single().RecipientKeys, Is.EqualTo(new[] { Verkey }));
    }

    [Test]
    public void Services_are_sorted_by_priority_then_document_order_and_other_types_skipped()
    {
        var json = Doc("did:example:alice",
            V1Service("#b", 1, DidKeyOfVerkey),
            new JsonObject { ["id"] = "#web", ["type"] = "LinkedDomains", ["serviceEndpoint"] = "https://example.com" },
            V1Service("#a", 0, DidKeyOfVerkey),
            V1Service("#c", 1, OtherDidKey));
        var ids = DidDocument.FromJson(json).DidCommServices().Select(s => s.Id[^2..]);
        Assert.That(ids, Is.EqualTo(new[] { "#a", "#b", "#c" }));
    }

    [Test]
    public void DIDCommMessaging_v2_uses_keyAgreement_keys_and_endpoint_object()
    {
        // shared/vectors/did-peer-2.json, case "generate-resolve".
        var did = File.ReadAllText(Path.Combine(TestPaths.Vectors, "did-peer-2.json"));
        var vector = JsonNode.Parse(did)!["cases"]![0]!;
        var doc = DidPeer.Resolve((string)vector["did"]!);
        var services = doc.DidCommServices();
        var x25519 = Base58.Encode(Multibase.DecodeKey("z6LSg8zQom395jKLrGiBNruB9MM6V8PWuf2FpEy4uRFiqQBR").Key);
        Assert.That(services.Select(s => s.Endpoint), Is.EqualTo(new[] { "http://example.com/didcomm", "http://example.com/another" }));
        Assert.That(services.Select(s => s.Id[^10..]), Is.EqualTo(new[] { "fQ#service", "#service-1" }));
        Assert.That(services.All(s => s.IsV2 && s.RecipientKeys.SequenceEqual([x25519])), Is.True);
        Assert.That(services[0].RoutingKeys, Is.EqualTo(new[] { "did:example:123456789abcdefghi#key-1" }));
        Assert.That(services[1].Accept, Is.EqualTo(new[] { "didcomm/v2" }));
    }

    [Test]
    public void DIDCommMessaging_with_an_array_of_endpoints_gives_one_service_each()
    {
        var doc = DidKey.Resolve(OtherDidKey).Json;
        doc["service"] = new JsonArray(new JsonObject
        {
            ["id"] = "#didcomm",
            ["type"] = "DIDCommMessaging",
            ["serviceEndpoint"] = new JsonArray(
                new JsonObject { ["uri"] = "https://m.example", ["accept"] = new JsonArray("didcomm/v2") },
                new JsonObject { ["uri"] = "wss://m.example/ws", ["routingKeys"] = new JsonArray(MediatorDidKey) }),
        });
        var services = DidDocument.FromJson(doc).DidCommServices();
        Assert.That(services.Select(s => s.Endpoint), Is.EqualTo(new[] { "https://m.example", "wss://m.example/ws" }));
        Assert.That(services[1].RoutingKeys, Is.EqualTo(new[] { MediatorDidKey }));
        Assert.That(services[0].RecipientKeys.Single(), Is.EqualTo(DidKey.Resolve(OtherDidKey).KeyAgreement.Single().Verkey));
    }

    [Test]
    public void RFC0067_example_with_RSA_keys_is_tolerated_but_its_service_is_unusable()
    {
        // RFC 0067 §"Bob's DID document for his Relationship with Alice": RSA keys only.
        var md = File.ReadAllText(Path.Combine(TestPaths.Shared, "specs", "aries-rfcs", "0067-didcomm-diddoc-conventions", "README.md"));
        var at = md.IndexOf("Bobs DID document given to Alice", StringComparison.Ordinal);
        var start = md.IndexOf("```json", at, StringComparison.Ordinal) + "```json".Length;
        var doc = DidDocument.Parse(md[start..md.IndexOf("```", start, StringComparison.Ordinal)]);
        Assert.That(doc.UnsupportedMethods, Is.EqualTo(new[] { "did:example:1234abcd#3", "did:example:1234abcd#4", "did:example:1234abcd#6" }));
        Assert.That(doc.VerificationMethods, Is.Empty);
        Assert.That(doc.Authentication, Is.Empty);
        var e = Assert.Throws<DidException>(() => doc.DidCommServices());
        Assert.That(e!.Message, Does.Contain("unsupported key type"));
    }

    [TestCase("recipientKeys", "[\"did:key:z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p\"]", "needs Ed25519")]
    [TestCase("recipientKeys", "[\"#key-9\"]", "is not a key of this document")]
    [TestCase("recipientKeys", "[]", "recipientKeys is missing or empty")]
    [TestCase("recipientKeys", "[\"abc\"]", "neither a key reference")]
    [TestCase("recipientKeys", "[5]", "must be a string")]
    [TestCase("serviceEndpoint", "null", "serviceEndpoint is missing")]
    [TestCase("serviceEndpoint", "{\"accept\": []}", "'uri'")]
    [TestCase("priority", "\"high\"", "priority must be an integer")]
    [TestCase("routingKeys", "[{}]", "must be a string")]
    public void Broken_v1_service_is_a_DidException(string property, string value, string message)
    {
        var service = V1Service("#s", 0, DidKeyOfVerkey);
        service[property] = JsonNode.Parse(value);
        var doc = DidDocument.FromJson(Doc("did:example:alice", service));
        var e = Assert.Throws<DidException>(() => doc.DidCommServices());
        Assert.That(e!.Message, Does.Contain(message));
    }

    [Test]
    public void V2_service_without_keyAgreement_is_a_DidException()
    {
        var json = Doc("did:example:alice", new JsonObject { ["type"] = "DIDCommMessaging", ["serviceEndpoint"] = new JsonObject { ["uri"] = "https://x" } });
        Assert.That(Assert.Throws<DidException>(() => DidDocument.FromJson(json).DidCommServices())!.Message, Does.Contain("no X25519 keyAgreement"));
    }

    [Test]
    public void Priority_given_as_a_numeric_string_is_tolerated()
    {
        var service = V1Service("#s", 0, DidKeyOfVerkey);
        service["priority"] = "3";
        Assert.That(DidDocument.FromJson(Doc("did:example:alice", service)).DidCommServices().Single().Priority, Is.EqualTo(3));
    }
}
