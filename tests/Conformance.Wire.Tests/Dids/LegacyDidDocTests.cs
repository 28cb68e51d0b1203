using System.Text.Json.Nodes;
using Conformance.Wire.Dids;

namespace Conformance.Wire.Tests.Dids;

public class LegacyDidDocTests
{
    // RFC 0160 §"DIDDoc Example".
    private const string Did = "QUmsj7xwB82QAuuzfmvhAi";
    private const string Verkey = "DoDMNYwMrSN8ygGKabgz5fLA9aWV4Vi8SLX6CiyN2H4a";
    private const string Endpoint = "http://192.168.65.3:8030";

    /// <summary>The example DIDDoc, read from the RFC text itself.</summary>
    private static JsonObject Rfc0160Example()
    {
        var md = File.ReadAllText(Path.Combine(TestPaths.Shared, "specs", "aries-rfcs", "0160-connection-protocol", "README.md"));
        var at = md.IndexOf("#### DIDDoc Example", StringComparison.Ordinal);
        var start = md.IndexOf("``` jsonc", at, StringComparison.Ordinal) + "``` jsonc".Length;
        var end = md.IndexOf("```", start, StringComparison.Ordinal);
        return JsonNode.Parse(md[start..end])!.AsObject();
    }

    [Test]
    public void Create_produces_the_RFC0160_example()
    {
        var created = LegacyDidDoc.Create(Did, Verkey, Endpoint, []);
        var example = Rfc0160Example();
        Assert.That(created.ToJsonString(), Is.EqualTo(example.ToJsonString()), "same content, same property order");
        Assert.That(LegacyDidDoc.Create("did:sov:" + Did, Verkey, Endpoint, []).ToJsonString(), Is.EqualTo(example.ToJsonString()));
    }

    [Test]
    public void Unqualified_did_is_base58_of_the_first_16_verkey_bytes()
    {
        // The RFC 0160 example's DID is derived from its verkey this way.
        Assert.That(LegacyDidDoc.UnqualifiedDidFromVerkey(Verkey), Is.EqualTo(Did));
        Assert.That(LegacyDidDoc.IsUnqualifiedDid(Did), Is.True);
        Assert.That(LegacyDidDoc.IsUnqualifiedDid("did:sov:" + Did), Is.False);
        Assert.Throws<DidException>(() => LegacyDidDoc.UnqualifiedDidFromVerkey("abc"));
    }

    [Test]
    public void Example_parses_and_round_trips()
    {
        var doc = DidDocument.FromJson(Rfc0160Example());
        Assert.That(doc.IsLegacy, Is.True);
        Assert.That(doc.Id, Is.EqualTo("did:sov:" + Did));
        var key = doc.Authentication.Single();
        Assert.That(key.Id, Is.EqualTo("did:sov:" + Did + "#1"));
        Assert.That(key.Type, Is.EqualTo("Ed25519VerificationKey2018"));
        Assert.That(key.Verkey, Is.EqualTo(Verkey));
        Assert.That(doc.FindMethod("#1"), Is.EqualTo(key));
        Assert.That(doc.FindMethod(Did + "#1"), Is.EqualTo(key), "unqualified reference to a did:sov document");

        var again = DidDocument.Parse(doc.ToJsonString());
        Assert.That(JsonNode.DeepEquals(again.Json, doc.Json), Is.True);
        Assert.That(again.DidCommServices(), Is.EqualTo(doc.DidCommServices()));
    }

    [Test]
    public void Create_with_routing_keys_and_two_endpoints()
    {
        const string mediatorVerkey = "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K";   // RFC 0360 example verkey
        var json = LegacyDidDoc.Create(Did, Verkey, ["http://a.example", "ws://b.example"], [mediatorVerkey]);
        Assert.That(json["service"]![1]!["id"]!.GetValue<string>(), Is.EqualTo("did:sov:" + Did + ";indy1"));
        var services = DidDocument.FromJson(json).DidCommServices();
        Assert.That(services.Select(s => (s.Endpoint, s.Priority)), Is.EqualTo(new[] { ("http://a.example", 0), ("ws://b.example", 1) }));
        Assert.That(services[0].RoutingKeys, Is.EqualTo(new[] { mediatorVerkey }));
        Assert.That(services[0].RecipientKeys, Is.EqualTo(new[] { Verkey }));
        Assert.That(services[0].Type, Is.EqualTo("IndyAgent"));
    }

    [Test]
    public void Create_rejects_bad_arguments()
    {
        Assert.Throws<DidException>(() => LegacyDidDoc.Create("did:peer:2.xyz", Verkey, Endpoint, []));
        Assert.Throws<DidException>(() => LegacyDidDoc.Create(Did, "not-a-key", Endpoint, []));
        Assert.Throws<DidException>(() => LegacyDidDoc.Create(Did, Verkey, "", []));
        Assert.Throws<DidException>(() => LegacyDidDoc.Create(Did, Verkey, Endpoint, ["did:key:z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p"]));
    }

    [Test]
    public void Credo_style_unqualified_ids_are_understood()
    {
        // Credo's connections/1.0 DidDoc: unqualified ids, "#IndyAgentService-1", referenced authentication.
        var json = $$"""
            {
              "@context": "https://w3id.org/did/v1",
              "id": "{{Did}}",
              "publicKey": [{ "id": "{{Did}}#1", "type": "Ed25519VerificationKey2018", "controller": "{{Did}}", "publicKeyBase58": "{{Verkey}}" }],
              "service": [{ "id": "{{Did}}#IndyAgentService-1", "serviceEndpoint": "http://x", "type": "IndyAgent", "priority": 0,
                            "recipientKeys": ["{{Verkey}}"], "routingKeys": [] }],
              "authentication": [{ "publicKey": "{{Did}}#1", "type": "Ed25519SignatureAuthentication2018" }]
            }
            """;
        var doc = DidDocument.Parse(json);
        Assert.That(doc.Authentication.Single().Verkey, Is.EqualTo(Verkey));
        Assert.That(doc.FindMethod("did:sov:" + Did + "#1")!.Verkey, Is.EqualTo(Verkey));
        Assert.That(doc.DidCommServices().Single().Id, Is.EqualTo(Did + "#IndyAgentService-1"));
    }
}
