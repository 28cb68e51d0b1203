using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Conformance.Cli.Tests;

/// <summary>
/// did resolve. Known answers: RFC 0360 (did:key ↔ verkey), decentralized-identity/did-peer-2 and did-peer-4 test
/// data (shared/vectors/did-peer-2.json, did-peer-4.json), the RFC 0160 "DIDDoc Example".
/// </summary>
public class DidVerbTests
{
    private const string Rfc0360Verkey = "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K";
    private const string Rfc0360DidKey = "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th";

    private static JsonArray Vectors(string file) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(CliPaths.Vectors, file)))!["cases"]!.AsArray();

    private static string S(JsonNode? n) => n!.GetValue<string>();

    [Test]
    public void Did_key_from_RFC_0360()
    {
        var json = Cli.AssertOk(Cli.Run("did", "resolve", Rfc0360DidKey));
        Assert.That(S(json["did"]), Is.EqualTo(Rfc0360DidKey));
        Assert.That(S(json["document"]!["id"]), Is.EqualTo(Rfc0360DidKey));
        var ed = json["keys"]!.AsArray().Single(k => S(k!["key_type"]) == "Ed25519")!;
        Assert.That(S(ed["base58"]), Is.EqualTo(Rfc0360Verkey));
        Assert.That(S(ed["did_key"]), Is.EqualTo(Rfc0360DidKey));
        Assert.That(json["keys"]!.AsArray().Count(k => S(k!["key_type"]) == "X25519"), Is.EqualTo(1), "the derived keyAgreement key");
        Assert.That(json["didcomm_services"]!.AsArray(), Is.Empty, "a did:key has no service");
    }

    [Test]
    public void Did_key_url_with_fragment_resolves_the_did()
    {
        var json = Cli.AssertOk(Cli.Run("did", "resolve", Rfc0360DidKey + "#" + Rfc0360DidKey["did:key:".Length..]));
        Assert.That(S(json["did"]), Is.EqualTo(Rfc0360DidKey));
    }

    [Test]
    public void Did_peer_0_is_the_did_key_key()
    {
        var json = Cli.AssertOk(Cli.Run("did", "resolve", "did:peer:0" + Rfc0360DidKey["did:key:".Length..]));
        Assert.That(json["keys"]!.AsArray().Select(k => S(k!["base58"])), Does.Contain(Rfc0360Verkey));
    }

    [Test]
    public void Did_peer_2_vector_document_and_services()
    {
        var c = Vectors("did-peer-2.json").First(x => x!["document"] is not null)!;
        var json = Cli.AssertOk(Cli.Run("did", "resolve", S(c["did"])));
        Assert.That(JsonNode.DeepEquals(json["document"], c["document"]), Is.True, json["document"]!.ToJsonString());

        // The vector's two "dm" services: endpoints and routing keys as encoded in the DID.
        var services = json["didcomm_services"]!.AsArray();
        Assert.That(services.Select(s => S(s!["endpoint"])), Is.EqualTo(new[] { "http://example.com/didcomm", "http://example.com/another" }));
        Assert.That(services.Select(s => S(s!["routing_keys"]![0])),
            Is.EqualTo(new[] { "did:example:123456789abcdefghi#key-1", "did:example:123456789abcdefghi#key-2" }));
        Assert.That(services.All(s => S(s!["type"]) == "DIDCommMessaging"), Is.True);
        // v2 recipient keys are the document's X25519 keyAgreement key (the vector's "E" key).
        var x25519 = json["keys"]!.AsArray().Single(k => S(k!["key_type"]) == "X25519")!;
        Assert.That(S(x25519["did_key"]), Is.EqualTo("did:key:z6LSg8zQom395jKLrGiBNruB9MM6V8PWuf2FpEy4uRFiqQBR"));
        Assert.That(services.Select(s => S(s!["recipient_keys"]![0])), Has.All.EqualTo(S(x25519["base58"])));
    }

    [Test]
    public void Did_peer_3_needs_the_did_peer_2_document()
    {
        var c = Vectors("did-peer-2.json").First(x => x!["did_peer_3"] is not null)!;
        var did3 = S(c["did_peer_3"]);

        var line = Cli.AssertBadInput(Cli.Run("did", "resolve", did3));
        Assert.That(line, Does.Contain("--doc"));

        var doc2 = Cli.AssertOk(Cli.Run("did", "resolve", S(c["did"])))["document"]!;
        var json = Cli.AssertOk(Cli.Run("did", "resolve", did3, "--doc", Cli.TempFile(doc2.ToJsonString())));
        Assert.That(S(json["did"]), Is.EqualTo(did3));
        Assert.That(json["document"]!["alsoKnownAs"]!.AsArray().Select(S), Does.Contain(S(c["did"])));

        // Another did:peer:2's document does not stand for this did:peer:3.
        var other = Vectors("did-peer-2.json").First(x => x!["document"] is not null)!["document"]!;
        line = Cli.AssertBadInput(Cli.Run("did", "resolve", did3, "--doc", Cli.TempFile(other.ToJsonString())));
        Assert.That(line, Does.Contain("--doc"));
    }

    [Test]
    public void Did_peer_4_long_and_short_forms()
    {
        var c = Vectors("did-peer-4.json").First(x => x!["resolved_long"] is not null)!;
        var longJson = Cli.AssertOk(Cli.Run("did", "resolve", S(c["did_long"])));
        Assert.That(JsonNode.DeepEquals(longJson["document"], c["resolved_long"]), Is.True, longJson["document"]!.ToJsonString());

        var shortDid = S(c["resolved_short"]!["id"]);
        Assert.That(Cli.AssertBadInput(Cli.Run("did", "resolve", shortDid)), Does.Contain("short form"));
        var shortJson = Cli.AssertOk(Cli.Run("did", "resolve", shortDid, "--doc", Cli.TempFile(c["resolved_long"]!.ToJsonString())));
        Assert.That(JsonNode.DeepEquals(shortJson["document"], c["resolved_short"]), Is.True, shortJson["document"]!.ToJsonString());
    }

    [Test]
    public void Legacy_RFC_0160_DIDDoc_with_doc_from_stdin()
    {
        // RFC 0160 §"DIDDoc Example" (the jsonc block), an IndyAgent service with a raw base58 recipient key.
        var readme = File.ReadAllText(Path.Combine(CliPaths.Specs, "aries-rfcs", "0160-connection-protocol", "README.md"));
        var block = Regex.Match(readme, @"#### DIDDoc Example.*?``` jsonc\s*(\{.*?\n\})\s*```", RegexOptions.Singleline);
        Assert.That(block.Success, Is.True, "the DIDDoc example is in RFC 0160");

        var json = Cli.AssertOk(Cli.RunWithInput(block.Groups[1].Value, "did", "resolve", "did:sov:QUmsj7xwB82QAuuzfmvhAi", "--doc", "-"));
        var service = json["didcomm_services"]!.AsArray().Single()!;
        Assert.That(S(service["type"]), Is.EqualTo("IndyAgent"));
        Assert.That(S(service["endpoint"]), Is.EqualTo("http://192.168.65.3:8030"));
        Assert.That(service["recipient_keys"]!.AsArray().Select(S), Is.EqualTo(new[] { "DoDMNYwMrSN8ygGKabgz5fLA9aWV4Vi8SLX6CiyN2H4a" }));
        Assert.That(json["keys"]!.AsArray().Select(k => S(k!["base58"])), Does.Contain("DoDMNYwMrSN8ygGKabgz5fLA9aWV4Vi8SLX6CiyN2H4a"));
    }

    [TestCase("notadid", "not a DID")]
    [TestCase("did:peer:9abc", "numalgo")]
    [TestCase("did:key:zBAD", "did:key")]
    [TestCase("did:key:", "not a DID")]
    [TestCase("did:", "not a DID")]
    [TestCase("did::x", "not a DID")]
    [TestCase("did:web:example.com", "--doc")]
    [TestCase("did:peer:2.Vgarbage", "")]
    [TestCase("did:peer:4zQmb7xLdVY9TXx8oov5XgpGUmGELgqiAV2699s43i6Qdm3M:zQSJgiFTYiCHjQ9MktwNThRXM7b", "")]   // last char changed
    public void Bad_dids(string did, string reason)
    {
        Assert.That(Cli.AssertBadInput(Cli.Run("did", "resolve", did)), Does.Contain(reason));
    }

    [Test]
    public void Bad_doc()
    {
        Cli.AssertBadInput(Cli.RunWithInput("not json", "did", "resolve", "did:sov:QUmsj7xwB82QAuuzfmvhAi", "--doc", "-"));
        Cli.AssertBadInput(Cli.Run("did", "resolve", "did:sov:QUmsj7xwB82QAuuzfmvhAi", "--doc", "/nonexistent/doc.json"));
    }
}
