// Seed 004 (Indy HIPE "Connection Protocol") §4 "Man-in-the-middle": sum and product of the hashes of the pair of
// DID documents, as defined in Connections/MitmCheck.cs (RFC 8785 canonical JSON, SHA-256, mod 2^256, Crockford base32).
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Conformance.Agent.Connections;
using Conformance.Agent.Misbehaviour;
using Conformance.Agent.Tests.Support;
using static Conformance.Agent.Tests.Connections.Wire;

namespace Conformance.Agent.Tests.Connections;

public class MitmCheckTests
{
    // RFC 0160 §1 "DIDDoc Example".
    private const string RfcDoc = """
        {
          "@context": "https://w3id.org/did/v1",
          "id": "did:sov:QUmsj7xwB82QAuuzfmvhAi",
          "publicKey": [{"id": "did:sov:QUmsj7xwB82QAuuzfmvhAi#1", "type": "Ed25519VerificationKey2018",
                         "controller": "did:sov:QUmsj7xwB82QAuuzfmvhAi", "publicKeyBase58": "DoDMNYwMrSN8ygGKabgz5fLA9aWV4Vi8SLX6CiyN2H4a"}],
          "authentication": [{"type": "Ed25519SignatureAuthentication2018", "publicKey": "did:sov:QUmsj7xwB82QAuuzfmvhAi#1"}],
          "service": [{"id": "did:sov:QUmsj7xwB82QAuuzfmvhAi;indy", "type": "IndyAgent", "priority": 0,
                       "recipientKeys": ["DoDMNYwMrSN8ygGKabgz5fLA9aWV4Vi8SLX6CiyN2H4a"], "serviceEndpoint": "http://192.168.65.3:8030"}]
        }
        """;

    private static JsonObject Doc(string json) => JsonNode.Parse(json)!.AsObject();

    private static JsonObject OtherDoc() => Doc(RfcDoc.Replace("QUmsj7xwB82QAuuzfmvhAi", "8HH5gYEeNc3z7PYXmd54d4").Replace("DoDMNYwMrSN8ygGKabgz5fLA9aWV4Vi8SLX6CiyN2H4a", "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"));

    [Test]
    public void Both_sides_get_the_same_codes_whatever_the_order_of_the_documents()
    {
        var a = Doc(RfcDoc);
        var b = OtherDoc();
        var ab = MitmCheck.Compute(a, b);
        var ba = MitmCheck.Compute(b, a);
        Assert.That((ab.Sum, ab.Product), Is.EqualTo((ba.Sum, ba.Product)));
        Assert.That(ab.Sum, Does.Match("^[0-9A-HJKMNP-TV-Z]{6}$"));
        Assert.That(ab.Product, Does.Match("^[0-9A-HJKMNP-TV-Z]{6}$"));
    }

    [Test]
    public void Whitespace_and_member_order_on_the_wire_do_not_change_the_codes()
    {
        var compact = Doc(JsonNode.Parse(RfcDoc)!.ToJsonString());
        var reordered = new JsonObject();
        foreach (var (k, v) in Doc(RfcDoc).Reverse()) reordered[k] = v?.DeepClone();
        Assert.That(MitmCheck.Compute(compact, OtherDoc()).Sum, Is.EqualTo(MitmCheck.Compute(reordered, OtherDoc()).Sum));
        Assert.That(MitmCheck.Compute(compact, OtherDoc()).Product, Is.EqualTo(MitmCheck.Compute(reordered, OtherDoc()).Product));
    }

    [TestCase("DoDMNYwMrSN8ygGKabgz5fLA9aWV4Vi8SLX6CiyN2H4a", "DoDMNYwMrSN8ygGKabgz5fLA9aWV4Vi8SLX6CiyN2H4b")]   // another key
    [TestCase("http://192.168.65.3:8030", "http://192.168.65.4:8030")]                                         // another endpoint
    [TestCase("\"priority\": 0", "\"priority\": 1")]
    public void A_tampered_document_changes_both_codes(string from, string to)
    {
        var honest = MitmCheck.Compute(Doc(RfcDoc), OtherDoc());
        var tampered = MitmCheck.Compute(Doc(RfcDoc.Replace(from, to)), OtherDoc());
        Assert.That(tampered.Sum, Is.Not.EqualTo(honest.Sum));
        Assert.That(tampered.Product, Is.Not.EqualTo(honest.Product));
    }

    [Test]
    public void Known_answer_two_empty_documents()
    {
        // Independent of the code under test: SHA-256("{}") is the canonical form's hash; sum = 2h, product = h² (mod 2^256);
        // the code is the top 30 bits in Crockford base32.
        var h = new BigInteger(SHA256.HashData("{}"u8), isUnsigned: true, isBigEndian: true);
        Assert.That(h.ToString("x").TrimStart('0'), Is.EqualTo("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"), "SHA-256 of {}");
        var mod = BigInteger.One << 256;
        var (sum, product) = MitmCheck.ComputeValues(new JsonObject(), new JsonObject());
        Assert.That(sum, Is.EqualTo(2 * h % mod));
        Assert.That(product, Is.EqualTo(h * h % mod));
        const string crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        string Top30(BigInteger v)
        {
            var top = (int)(v >> 226);
            return new string(Enumerable.Range(0, 6).Select(i => crockford[top >> (25 - 5 * i) & 31]).ToArray());
        }
        var codes = MitmCheck.Compute(new JsonObject(), new JsonObject());
        Assert.That(codes.Sum, Is.EqualTo(Top30(2 * h % mod)));
        Assert.That(codes.Product, Is.EqualTo(Top30(h * h % mod)));
        // Worked by hand (and with Python's hashlib): 2h = 0x8826df46ab..., top 30 bits 10001 00000 10011 01101 11110 10001
        // = H 0 K D Y H; h² mod 2^256 = 0x9fcd196884... = K Z 6 H J T.
        Assert.That((codes.Sum, codes.Product), Is.EqualTo(("H0KDYH", "KZ6HJT")));
    }

    [Test]
    public void Canonical_json_follows_rfc_8785()
    {
        // RFC 8785 §3.2.3 sorting example: members ordered by UTF-16 code units.
        var sorting = JsonNode.Parse("""{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}""");
        var keys = JsonNode.Parse(MitmCheck.Canonicalize(sorting))!.AsObject().Select(p => p.Key).ToList();
        Assert.That(keys, Is.EqualTo(new[] { "\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33" }));
        // String escaping (JSON.stringify): only ", \, and controls; non-ASCII stays literal.
        Assert.That(MitmCheck.Canonicalize(JsonNode.Parse("""{"b":"x\n\u0001\u00e9\"/","a":[true,null,false]}""")),
            Is.EqualTo("{\"a\":[true,null,false],\"b\":\"x\\n\\u0001é\\\"/\"}"));
        // Numbers as ECMAScript Number.prototype.toString writes them (RFC 8785 §3.2.2.3, ECMA-262 Number::toString).
        var numbers = new Dictionary<string, string>
        {
            ["0"] = "0", ["-0"] = "0", ["100"] = "100", ["1.5"] = "1.5", ["-12.25"] = "-12.25", ["0.001"] = "0.001",
            ["0.000001"] = "0.000001", ["1e-7"] = "1e-7", ["1.5e-7"] = "1.5e-7", ["1e20"] = "100000000000000000000",
            ["1e21"] = "1e+21", ["123456789e20"] = "1.23456789e+28", ["9007199254740991"] = "9007199254740991",
            ["5e-324"] = "5e-324", ["1.7976931348623157e308"] = "1.7976931348623157e+308", ["2.2250738585072014e-308"] = "2.2250738585072014e-308",
            ["0.1"] = "0.1", ["333333333.3333333"] = "333333333.3333333",
        };
        foreach (var (input, expected) in numbers)
            Assert.That(MitmCheck.Canonicalize(JsonNode.Parse(input)), Is.EqualTo(expected), input);
        // Values built in code (not parsed) canonicalise the same way.
        Assert.That(MitmCheck.Canonicalize(new JsonObject { ["p"] = 0, ["s"] = "x" }), Is.EqualTo("{\"p\":0,\"s\":\"x\"}"));
    }

    [Test]
    public void Spoken_codes_are_read_back_with_crockford_rules()
    {
        Assert.That(MitmCheck.Matches("h0kd-yh", "H0KDYH"), Is.True);
        Assert.That(MitmCheck.Matches("HOKD YH", "H0KDYH"), Is.True, "O is read as 0");
        Assert.That(MitmCheck.Matches("KZ6HlT", "KZ6H1T"), Is.True, "l is read as 1");
        Assert.That(MitmCheck.Matches("H0KDYJ", "H0KDYH"), Is.False);
    }

    [Test]
    public async Task A_document_altered_in_transit_gives_the_two_sides_different_codes()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        // Something between Bob and Alice changes Bob's document; it is still valid, so the connection completes.
        bob.Misbehaviour.Add(new MisbehaviourRule("request", "DIDDoc altered in transit")
        {
            Mutate = j => { j["connection"]!["DIDDoc"]!["service"]![0]!["priority"] = 7; return j; },
        });
        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());
        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        b = await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
        var a = await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "complete");
        Assert.That(a.Mitm!.Sum, Is.Not.EqualTo(b.Mitm!.Sum), "the comparison over an independent channel reveals the change");
        Assert.That(a.Mitm.Product, Is.Not.EqualTo(b.Mitm.Product));
        Assert.That(Sent(agents, "Bob", "connections/1.0/request").Single()["connection"]!["DIDDoc"]!["service"]![0]!["priority"]!.GetValue<int>(), Is.EqualTo(7));
    }
}
