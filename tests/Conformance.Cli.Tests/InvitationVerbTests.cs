using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Conformance.Cli.Tests;

/// <summary>invitation decode, on the example URLs of RFC 0160 and RFC 0434 (taken from the RFC texts in shared/specs).</summary>
public class InvitationVerbTests
{
    /// <summary>RFC 0160 §"Example Invitation Encoding": the example URL (padded base64url, did:sov @type prefix).</summary>
    private static string Rfc0160ExampleUrl() => FirstUrl("0160-connection-protocol", "c_i");

    /// <summary>RFC 0434 §"Example Out-of-Band Message Encoding": the example URL (unpadded).</summary>
    private static string Rfc0434ExampleUrl() => FirstUrl("0434-outofband", "oob");

    private static string FirstUrl(string rfc, string parameter)
    {
        var text = File.ReadAllText(Path.Combine(CliPaths.Specs, "aries-rfcs", rfc, "README.md"));
        var m = Regex.Match(text, @"http://example\.com/ssi\?" + parameter + @"=[A-Za-z0-9_\-=]{20,}");
        Assert.That(m.Success, Is.True, $"the {parameter} example URL is in {rfc}/README.md");
        return m.Value;
    }

    private static string S(JsonNode? n) => n!.GetValue<string>();

    private static string[] Strings(JsonNode? n) => n!.AsArray().Select(x => x!.GetValue<string>()).ToArray();

    [Test]
    public void Decodes_the_RFC_0160_example_url()
    {
        var url = Rfc0160ExampleUrl();
        Assert.That(url, Does.EndWith("="), "the RFC's example is padded");
        var json = Cli.AssertOk(Cli.Run("invitation", "decode", url));

        Assert.That(S(json["parameter"]), Is.EqualTo("c_i"));
        Assert.That(json["padded"]!.GetValue<bool>(), Is.True);
        Assert.That(S(json["base_url"]), Is.EqualTo("http://example.com/ssi"));

        // The RFC's invitation: label Alice, one recipient key, one routing key, https://example.com/endpoint.
        var inv = json["invitation"]!;
        Assert.That(S(inv["@type"]), Is.EqualTo("did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/connections/1.0/invitation"));
        Assert.That(S(inv["@id"]), Is.EqualTo("12345678900987654321"));
        Assert.That(S(inv["label"]), Is.EqualTo("Alice"));

        var summary = json["summary"]!;
        Assert.That(S(summary["type"]), Is.EqualTo("did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/connections/1.0/invitation"));
        Assert.That(S(summary["label"]), Is.EqualTo("Alice"));
        Assert.That(Strings(summary["recipient_keys"]), Is.EqualTo(new[] { "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K" }));
        Assert.That(Strings(summary["routing_keys"]), Is.EqualTo(new[] { "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K" }));
        Assert.That(Strings(summary["endpoints"]), Is.EqualTo(new[] { "https://example.com/endpoint" }));
        Assert.That(Strings(summary["handshake_protocols"]), Is.Empty);
        Assert.That(summary["notes"], Is.Null);
    }

    [Test]
    public void Unpadded_and_percent_escaped_forms_decode_to_the_same_invitation()
    {
        var url = Rfc0160ExampleUrl();
        var padded = Cli.AssertOk(Cli.Run("invitation", "decode", url));
        var unpadded = Cli.AssertOk(Cli.Run("invitation", "decode", url.TrimEnd('=')));
        var escaped = Cli.AssertOk(Cli.Run("invitation", "decode", url.TrimEnd('=') + "%3D"));
        Assert.That(unpadded["padded"]!.GetValue<bool>(), Is.False);
        Assert.That(JsonNode.DeepEquals(padded["invitation"], unpadded["invitation"]), Is.True);
        Assert.That(JsonNode.DeepEquals(padded["invitation"], escaped["invitation"]), Is.True);
    }

    [Test]
    public void Decodes_the_RFC_0434_example_url()
    {
        var json = Cli.AssertOk(Cli.Run("invitation", "decode", Rfc0434ExampleUrl()));
        Assert.That(S(json["parameter"]), Is.EqualTo("oob"));
        Assert.That(json["padded"]!.GetValue<bool>(), Is.False);
        var summary = json["summary"]!;
        Assert.That(S(summary["type"]), Is.EqualTo("https://didcomm.org/out-of-band/1.0/invitation"));
        Assert.That(S(summary["label"]), Is.EqualTo("Faber College"));
        Assert.That(S(summary["goal_code"]), Is.EqualTo("issue-vc"));
        Assert.That(Strings(summary["dids"]), Is.EqualTo(new[] { "did:sov:LjgpST2rjsoxYegQDRm7EL" }));
        Assert.That(Strings(summary["handshake_protocols"]),
            Is.EqualTo(new[] { "https://didcomm.org/didexchange/1.0", "https://didcomm.org/connections/1.0" }));
        Assert.That(summary["notes"], Is.Null);
    }

    [Test]
    public void Padded_oob_is_decoded_with_a_note()
    {
        // RFC 0434: "SHOULD NOT use padding, but the decoding implementation used MUST correctly decode padded and unpadded".
        var url = Rfc0434ExampleUrl();
        var payload = url[(url.IndexOf("oob=", StringComparison.Ordinal) + 4)..];
        var padded = url + new string('=', (4 - payload.Length % 4) % 4);
        Assume.That(padded, Is.Not.EqualTo(url), "the example payload length needs padding");
        var json = Cli.AssertOk(Cli.Run("invitation", "decode", padded));
        Assert.That(json["padded"]!.GetValue<bool>(), Is.True);
        Assert.That(Strings(json["summary"]!["notes"]), Has.Some.Contains("SHOULD NOT use padding"));
    }

    [Test]
    public void Oob_inline_service_block_from_stdin()
    {
        // RFC 0434 §"Messages" example invitation with an inline service block (did:key recipient key, RFC 0360).
        const string invitation = """
            {
              "@type": "https://didcomm.org/out-of-band/1.1/invitation",
              "@id": "69212a3a-d068-4f9d-a2dd-4741bca89af3",
              "label": "Faber College",
              "handshake_protocols": ["https://didcomm.org/didexchange/1.1"],
              "services": [
                {
                  "id": "#inline",
                  "type": "did-communication",
                  "recipientKeys": ["did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th"],
                  "routingKeys": [],
                  "serviceEndpoint": "https://example.com:5000"
                },
                "did:sov:LjgpST2rjsoxYegQDRm7EL"
              ]
            }
            """;
        var json = Cli.AssertOk(Cli.RunWithInput(invitation, "invitation", "decode", "-"));
        Assert.That(json["parameter"], Is.Null);
        Assert.That(json["base_url"], Is.Null);
        var summary = json["summary"]!;
        Assert.That(Strings(summary["recipient_keys"]), Is.EqualTo(new[] { "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th" }));
        Assert.That(Strings(summary["endpoints"]), Is.EqualTo(new[] { "https://example.com:5000" }));
        Assert.That(Strings(summary["dids"]), Is.EqualTo(new[] { "did:sov:LjgpST2rjsoxYegQDRm7EL" }));
    }

    [Test]
    public void Oob_without_handshake_or_requests_gets_a_MUST_note()
    {
        const string invitation = """{"@type":"https://didcomm.org/out-of-band/1.1/invitation","@id":"x","services":["did:sov:LjgpST2rjsoxYegQDRm7EL"]}""";
        var json = Cli.AssertOk(Cli.Run("invitation", "decode", invitation));
        Assert.That(Strings(json["summary"]!["notes"]), Has.Some.Contains("MUST be included"));
    }

    [TestCase("hello", "neither a JSON invitation nor a URL")]
    [TestCase("{\"@type\": ", "not valid JSON")]
    [TestCase("[1, 2]", "")]
    [TestCase("https://example.com/invite?foo=bar", "no oob, c_i or d_m parameter")]
    [TestCase("https://example.com/?c_i=%%%%", "")]
    [TestCase("https://example.com/?c_i=bm90IGpzb24", "not valid JSON")]   // base64url("not json")
    [TestCase("https://example.com/?c_i=", "empty")]
    public void Bad_invitations(string input, string reason)
    {
        var line = Cli.AssertBadInput(Cli.Run("invitation", "decode", input));
        Assert.That(line, Does.Contain(reason));
    }

    [Test]
    public void Empty_stdin()
    {
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput("  \n", "invitation", "decode", "-")), Does.Contain("empty"));
    }
}
