using System.Text;
using Conformance.Harness.Drivers;

namespace Conformance.Harness.Tests.Drivers;

/// <summary>
/// The Engine API's log stream format (Docker Engine API v1.41, "Attach to a container" / "Stream format": each frame
/// is an 8-byte header {STREAM_TYPE, 0, 0, 0, SIZE1, SIZE2, SIZE3, SIZE4} with STREAM_TYPE 1 = stdout, 2 = stderr
/// and a big-endian uint32 size, followed by the payload).
/// </summary>
[TestFixture]
public class DockerEngineTests
{
    private static byte[] Frame(byte stream, string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var len = payload.Length;
        return [stream, 0, 0, 0, (byte)(len >> 24), (byte)(len >> 16), (byte)(len >> 8), (byte)len, .. payload];
    }

    [Test]
    public void Demultiplex_splits_stdout_and_stderr_frames_into_lines_even_across_frames()
    {
        byte[] stream = [.. Frame(1, "ready {\"a\":1}\npart"), .. Frame(2, "warn: x\n"), .. Frame(1, "ial line\n"), .. Frame(1, "last")];
        Assert.That(DockerEngine.Demultiplex(stream), Is.EqualTo(new[]
        {
            ("out", "ready {\"a\":1}"), ("err", "warn: x"), ("out", "partial line"), ("out", "last"),
        }));
    }

    [Test]
    public void Demultiplex_of_a_raw_tty_stream_is_all_stdout_and_a_truncated_frame_is_kept()
    {
        Assert.That(DockerEngine.Demultiplex("a\nb\n"u8), Is.EqualTo(new[] { ("out", "a"), ("out", "b") }));
        var truncated = Frame(2, "abcdef")[..10];
        Assert.That(DockerEngine.Demultiplex(truncated), Is.EqualTo(new[] { ("err", "ab") }));
        Assert.That(DockerEngine.Demultiplex([]), Is.Empty);
    }
}
