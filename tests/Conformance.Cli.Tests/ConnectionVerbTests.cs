using System.Text.Json.Nodes;
using Conformance.Agent.Connections;

namespace Conformance.Cli.Tests;

public class ConnectionVerbTests
{
    private static string TempJson(JsonObject o)
    {
        var path = Path.Combine(Path.GetTempPath(), $"conformance-doc-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, o.ToJsonString());
        return path;
    }

    private static JsonObject Doc(string did, string key) => new()
    {
        ["@context"] = "https://w3id.org/did/v1",
        ["id"] = did,
        ["publicKey"] = new JsonArray(new JsonObject { ["id"] = did + "#1", ["type"] = "Ed25519VerificationKey2018", ["controller"] = did, ["publicKeyBase58"] = key }),
    };

    [Test]
    public void Fingerprint_is_the_same_in_either_order_and_matches_the_agent()
    {
        var a = Doc("did:sov:QUmsj7xwB82QAuuzfmvhAi", "DoDMNYwMrSN8ygGKabgz5fLA9aWV4Vi8SLX6CiyN2H4a");
        var b = Doc("did:sov:LjgpST2rjsoxYegQDRm7EL", "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K");
        string pa = TempJson(a), pb = TempJson(b);
        try
        {
            var ab = Cli.Run("connection", "fingerprint", pa, pb);
            var ba = Cli.Run("connection", "fingerprint", pb, pa);
            Assert.That(ab.Code, Is.EqualTo(0), ab.Stderr);
            var j1 = JsonNode.Parse(ab.Stdout)!;
            var j2 = JsonNode.Parse(ba.Stdout)!;
            Assert.That(j1["sum"]!.ToString(), Is.EqualTo(j2["sum"]!.ToString()));
            Assert.That(j1["product"]!.ToString(), Is.EqualTo(j2["product"]!.ToString()));
            var agent = MitmCheck.Compute(a, b);
            Assert.That(j1["sum"]!.ToString(), Is.EqualTo(agent.Sum).And.Length.EqualTo(6));
            Assert.That(j1["product"]!.ToString(), Is.EqualTo(agent.Product));
            Assert.That(j1["sum_hex"]!.ToString(), Has.Length.EqualTo(64));
        }
        finally { File.Delete(pa); File.Delete(pb); }
    }

    [Test]
    public void Fingerprint_rejects_a_document_that_is_not_json()
    {
        var pa = TempJson(new JsonObject());
        var bad = Path.Combine(Path.GetTempPath(), $"conformance-doc-{Guid.NewGuid():N}.json");
        File.WriteAllText(bad, "not json");
        try
        {
            var r = Cli.Run("connection", "fingerprint", pa, bad);
            Assert.That(r.Code, Is.EqualTo(2));
            Assert.That(r.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1));
            Assert.That(r.Stderr, Does.StartWith("conformance: ").And.Not.Contain("   at "));
        }
        finally { File.Delete(pa); File.Delete(bad); }
    }
}
