using System.Text.Json.Nodes;
using Conformance.Wire.Messages;

namespace Conformance.Wire.Tests.Messages;

/// <summary>RFC 0017 attachment descriptors, using the example files shipped with the RFC.</summary>
public class AttachmentTests
{
    private static JsonObject Example(string file) => (JsonObject)JsonNode.Parse(File.ReadAllText(RfcText.Path("0017-attachments", file)))!;

    [Test]
    public void Appended_links_attachment_from_crime_scene_links_json()
    {
        var o = Example("crime-scene-links.json");
        var a = Attachment.FromJson((JsonObject)o["~attach"]![0]!);
        Assert.That(a.Id, Is.EqualTo("view-1"));
        Assert.That(a.MimeType, Is.EqualTo("image/jpeg"));
        Assert.That(a.Filename, Is.EqualTo("doorway.jpg"));
        Assert.That(a.ByteCount, Is.EqualTo(98112));
        Assert.That(a.LastmodTime, Is.EqualTo("2018-12-21 18:24:07Z"));
        Assert.That(a.Description, Is.EqualTo("view from doorway, facing east, with lights off"));
        Assert.That(a.Sha256, Is.EqualTo("f8dca1d901d18c802e6a8ce1956d4b0d17f03d9dc5e4e1f618b6a022153ef373"));
        Assert.That(a.Links, Is.EqualTo(new[] { "https://ibb.co/TtgKkZY" }));
        Assert.That(a.Base64, Is.Null);
        Assert.Throws<MessageFormatException>(() => a.Bytes());
        Assert.That(JsonNode.DeepEquals(a.ToJson(), o["~attach"]![0]), Is.True, "ToJson reproduces the descriptor");
    }

    [Test]
    public void Embedded_json_attachment_from_embedded_json_json()
    {
        var o = Example("embedded-json.json");
        var a = Attachment.FromJson((JsonObject)o["diagram~attach"]!);
        Assert.That(a.Id, Is.EqualTo("lobby-diagram"));
        Assert.That(a.MimeType, Is.EqualTo("application/geo+json"));
        Assert.That(a.Json!["type"]!.GetValue<string>(), Is.EqualTo("FeatureCollection"));
        Assert.That(JsonNode.DeepEquals(a.JsonContent(), o["diagram~attach"]!["data"]!["json"]), Is.True);
        Assert.That(JsonNode.DeepEquals(a.ToJson(), o["diagram~attach"]), Is.True);
    }

    [Test]
    public void The_RFC_placeholder_base64_does_not_decode()
    {
        // crime-scene.json abbreviates its data as "aGVsbG8sIHl ...(many bytes omitted)... Ugd29ybGQ=": not base64.
        var o = Example("crime-scene.json");
        var attachments = ((JsonArray)o["~attach"]!).Select(n => Attachment.FromJson((JsonObject)n!)).ToList();
        Assert.That(attachments.Select(a => a.Id), Is.EqualTo(new[] { "view-1", "view-2" }));
        foreach (var a in attachments)
            Assert.That(Assert.Throws<MessageFormatException>(() => a.Bytes())!.Message, Does.Contain(a.Id));
    }

    [Test]
    public void Photo_share_example_uses_content_instead_of_data()
    {
        // RFC 0017 photo-share.json names the data object "content" (an older draft; the Reference section says
        // "data"). It is read as data and written back as "data".
        var a = Attachment.FromJson((JsonObject)Example("photo-share.json")["fav_photo~attach"]!);
        Assert.That(a.MimeType, Is.EqualTo("image/png"));
        Assert.That(a.Base64, Does.StartWith("aGVsbG8s"));
        Assert.That(a.ToJson().ContainsKey("data"), Is.True);
        Assert.That(a.ToJson().ContainsKey("content"), Is.False);
    }

    // RFC 0017: readers "SHOULD tolerate the presence or absence of padding and base64 versus base64url".
    [TestCase("Pz8-Pw")]      // base64url, unpadded
    [TestCase("Pz8-Pw==")]    // base64url, padded
    [TestCase("Pz8+Pw==")]    // standard base64, padded (what ACA-Py and Credo write for did_doc~attach)
    [TestCase("Pz8+Pw")]      // standard base64, unpadded
    [TestCase("Pz8+\r\nPw==")] // MIME line break
    public void Bytes_tolerates_every_base64_form(string b64)
    {
        var a = new Attachment("x", null, b64, null, null, null, null);
        Assert.That(a.Bytes(), Is.EqualTo("??>?"u8.ToArray()));
    }

    [Test]
    public void FromBytes_writes_unpadded_base64url_and_round_trips()
    {
        var a = Attachment.FromBytes("??>?"u8, "att-1", "text/plain");
        Assert.That(a.Base64, Is.EqualTo("Pz8-Pw"), "RFC 0017: writers SHOULD omit the padding");
        var back = Attachment.FromJson(a.ToJson());
        Assert.That(back.Bytes(), Is.EqualTo("??>?"u8.ToArray()));
        Assert.That(back.Id, Is.EqualTo("att-1"));
        Assert.That(back.MimeType, Is.EqualTo("text/plain"));
    }

    [Test]
    public void JsonContent_parses_base64_json()
    {
        var a = Attachment.FromBytes("""{"id":"did:peer:1zQm"}"""u8, mimeType: "application/json");
        Assert.That(a.JsonContent()["id"]!.GetValue<string>(), Is.EqualTo("did:peer:1zQm"));
        Assert.Throws<MessageFormatException>(() => Attachment.FromBytes("not json"u8).JsonContent());
        Assert.Throws<MessageFormatException>(() => new Attachment(null, null, null, null, ["https://x"], null, null).JsonContent());
    }

    [Test]
    public void Unknown_members_survive_ToJson()
    {
        var o = (JsonObject)JsonNode.Parse("""{"@id":"a","x-extra":{"k":1},"data":{"base64":"AA","x-data":true}}""")!;
        Assert.That(JsonNode.DeepEquals(Attachment.FromJson(o).ToJson(), o), Is.True);
    }

    [TestCase("""{"@id":"a"}""", TestName = "no data")]
    [TestCase("""{"data":"AA"}""", TestName = "data not object")]
    [TestCase("""{"@id":1,"data":{}}""", TestName = "id number")]
    [TestCase("""{"mime-type":["a"],"data":{}}""", TestName = "mime-type array")]
    [TestCase("""{"data":{"base64":1}}""", TestName = "base64 number")]
    [TestCase("""{"data":{"links":"https://x"}}""", TestName = "links string")]
    [TestCase("""{"data":{"links":[1]}}""", TestName = "links number entry")]
    [TestCase("""{"data":{"jws":"x"}}""", TestName = "jws string")]
    [TestCase("""{"data":{"sha256":false}}""", TestName = "sha256 bool")]
    [TestCase("""{"byte_count":"12","data":{}}""", TestName = "byte_count string")]
    public void Malformed_descriptors_throw_MessageFormatException(string json)
        => Assert.Throws<MessageFormatException>(() => Attachment.FromJson((JsonObject)JsonNode.Parse(json)!));

    [Test]
    public void Message_attachments_accept_object_and_array_forms()
    {
        var m = AgentMessage.Parse("""
            {"@type":"https://didcomm.org/out-of-band/1.1/invitation","@id":"69212a3a-d068-4f9d-a2dd-4741bca89af3",
             "requests~attach":[{"@id":"request-0","mime-type":"application/json","data":{"json":{"@type":"https://didcomm.org/x/1.0/y"}}}],
             "did_doc~attach":{"@id":"d2ab6f2b","mime-type":"application/json","data":{"base64":"e30="}}}
            """);
        Assert.That(m.Attachments("requests~attach").Single().Id, Is.EqualTo("request-0"));
        Assert.That(m.Attachments("did_doc~attach").Single().JsonContent().ToJsonString(), Is.EqualTo("{}"));
        var bad = AgentMessage.Parse("""{"@type":"https://didcomm.org/x/1.0/y","@id":"12345678","requests~attach":[{"@id":"r0"}]}""");
        Assert.That(Assert.Throws<MessageFormatException>(() => bad.Attachments("requests~attach"))!.Message, Does.StartWith("requests~attach: attachment 'r0'"));
    }
}
