using Conformance.Wire.Messages;
using FsCheck;
using FsCheck.Fluent;

namespace Conformance.Wire.Tests.Messages;

public class MessageTypeTests
{
    // Types as they appear in the RFCs: 0160 (https prefix), 0496 (legacy did:sov prefix), 0023 (didexchange/1.1),
    // 0434 (out-of-band, hyphenated names), 0008 (a did:example doc URI), 0017 photo-share.json (a GitHub doc URI).
    [TestCase("https://didcomm.org/connections/1.0/invitation", "https://didcomm.org/", "connections", 1, 0, "invitation", false)]
    [TestCase("did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/connections/1.0/invitation", "did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/", "connections", 1, 0, "invitation", true)]
    [TestCase("https://didcomm.org/didexchange/1.1/request", "https://didcomm.org/", "didexchange", 1, 1, "request", false)]
    [TestCase("https://didcomm.org/out-of-band/1.1/handshake-reuse-accepted", "https://didcomm.org/", "out-of-band", 1, 1, "handshake-reuse-accepted", false)]
    [TestCase("did:example:12345...;spec/example_family/1.0/example_type", "did:example:12345...;spec/", "example_family", 1, 0, "example_type", false)]
    [TestCase("https://github.com/foo/bar/blob/master/abczyx/pix/1.0/favshare", "https://github.com/foo/bar/blob/master/abczyx/", "pix", 1, 0, "favshare", false)]
    [TestCase("https://didcomm.org/signature/1.0/ed25519Sha512_single", "https://didcomm.org/", "signature", 1, 0, "ed25519Sha512_single", false)]
    public void Parses_RFC_message_types_and_formats_them_back(string text, string doc, string protocol, int major, int minor, string name, bool legacy)
    {
        var t = MessageType.Parse(text);
        Assert.That(t, Is.EqualTo(new MessageType(doc, protocol, major, minor, name)));
        Assert.That(t.IsLegacyPrefix, Is.EqualTo(legacy));
        Assert.That(t.ToString(), Is.EqualTo(text));
        Assert.That(t.ProtocolUri, Is.EqualTo(text[..text.LastIndexOf('/')]));
        Assert.That(MessageType.TryParse(text, out var t2), Is.True);
        Assert.That(t2, Is.EqualTo(t));
    }

    [Test]
    public void Both_prefixes_name_the_same_message()
    {
        var modern = MessageType.Parse("https://didcomm.org/connections/1.0/request");
        var legacy = MessageType.Parse(DocUris.LegacySov + "connections/1.0/request");
        Assert.That(legacy, Is.Not.EqualTo(modern), "records keep the prefix");
        Assert.That(legacy.WithPrefix(DocUris.DidCommOrg), Is.EqualTo(modern));
        Assert.That(modern.WithPrefix(DocUris.LegacySov), Is.EqualTo(legacy));
        Assert.That(legacy.Matches("connections", 1, "request"), Is.True);
        Assert.That(modern.Matches("connections", 1, "request"), Is.True);
        Assert.That(legacy.IsSameProtocolFamily(modern), Is.True);
        Assert.Throws<ArgumentException>(() => modern.WithPrefix("https://didcomm.org"));
    }

    // RFC 0003 semver: same major = compatible; minor only adds optional things. Credo answers a 1.0 invitation with
    // didexchange/1.1 messages (shared/notes/credo-0.6.3.md), so a 1.0 peer must accept 1.1 and vice versa.
    [TestCase("https://didcomm.org/didexchange/1.0/request", true)]
    [TestCase("https://didcomm.org/didexchange/1.1/request", true)]
    [TestCase("https://didcomm.org/didexchange/1.7/request", true)]
    [TestCase("did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/didexchange/1.1/request", true)]
    [TestCase("https://didcomm.org/didexchange/2.0/request", false)]
    [TestCase("https://didcomm.org/didexchange/0.9/request", false)]
    [TestCase("https://didcomm.org/didexchange/1.1/response", false)]
    [TestCase("https://didcomm.org/DIDexchange/1.1/request", false)]
    public void Matching_is_minor_version_tolerant_and_nothing_else(string text, bool matches)
        => Assert.That(MessageType.Parse(text).Matches("didexchange", 1, "request"), Is.EqualTo(matches));

    [TestCase("")]
    [TestCase("invitation")]
    [TestCase("connections/1.0/invitation")]
    [TestCase("/connections/1.0/invitation")]
    [TestCase("https://didcomm.org/connections/invitation")]
    [TestCase("https://didcomm.org/connections/1/invitation")]
    [TestCase("https://didcomm.org/connections/1.0.0/invitation")]
    [TestCase("https://didcomm.org/connections/1.x/invitation")]
    [TestCase("https://didcomm.org/connections/-1.0/invitation")]
    [TestCase("https://didcomm.org/connections/01.0/invitation")]
    [TestCase("https://didcomm.org/connections/1.0/")]
    [TestCase("https://didcomm.org//1.0/invitation")]
    [TestCase("https://didcomm.org/connections/9999999999.0/invitation")]
    [TestCase(" https://didcomm.org/connections/1.0/invitation")]
    [TestCase("https://didcomm.org/connections/1.0/invi tation")]
    [TestCase("didcomm.org/connections/1.0/invitation")]
    public void Malformed_types_throw_MessageFormatException(string text)
    {
        var e = Assert.Throws<MessageFormatException>(() => MessageType.Parse(text));
        Assert.That(e!.Message, Does.StartWith("unparseable @type"));
        Assert.That(e.Message, Does.Not.Contain("\n"));
        Assert.That(MessageType.TryParse(text, out var t), Is.False);
        Assert.That(t, Is.Null);
    }

    [Test]
    public void TryParse_null_is_false() => Assert.That(MessageType.TryParse(null, out _), Is.False);

    private static readonly Gen<string> Segment =
        Gen.Elements("abcdefghijklmnopqrstuvwxyz0123456789-_.ABCZ".ToCharArray())
           .NonEmptyListOf().Select(cs => new string(cs.ToArray()));

    private static readonly Gen<MessageType> Types =
        from doc in Gen.Elements(DocUris.DidCommOrg, DocUris.LegacySov, "https://example.org/protocols/", "did:example:abc;spec/")
        from protocol in Segment
        from major in Gen.Choose(0, 1000)
        from minor in Gen.Choose(0, 1000)
        from name in Segment
        select new MessageType(doc, protocol, major, minor, name);

    [Test]
    public void Property_format_then_parse_is_identity()
        => Prop.ForAll(Types.ToArbitrary(), t => MessageType.Parse(t.ToString()) == t).QuickCheckThrowOnFailure();

    [Test]
    public void Property_parse_then_format_reproduces_every_accepted_string()
        => Prop.ForAll(ArbMap.Default.ArbFor<string>(), s =>
        {
            if (s is null) return true;
            try { return MessageType.Parse(s).ToString() == s; }
            catch (MessageFormatException) { return true; }
        }).QuickCheckThrowOnFailure();

    [Test]
    public void Property_mangled_types_throw_only_MessageFormatException()
    {
        // Take valid types and splice random characters in, so that the parser sees near-misses, not just noise.
        var mangled =
            from t in Types
            from pos in Gen.Choose(0, 200)
            from junk in ArbMap.Default.GeneratorFor<string>()
            let s = t.ToString()
            select s.Insert(Math.Min(pos, s.Length), junk ?? "");
        Prop.ForAll(mangled.ToArbitrary(), s =>
        {
            try { var t = MessageType.Parse(s); return t.ToString() == s; }
            catch (MessageFormatException) { return true; }
        }).QuickCheckThrowOnFailure();
    }
}
