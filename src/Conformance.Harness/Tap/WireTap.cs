using System.Diagnostics;
using System.Text.Json.Nodes;
using Conformance.Agent;
using Conformance.Agent.Core;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Tap;

/// <summary>
/// Records every message a reference agent sends and receives during a case — the envelope exactly as it crossed the
/// wire and the plaintext — with the time since the case started. Also lets a case wait for the next message from
/// the agent under test that matches a predicate.
/// </summary>
public sealed class WireTap
{
    private readonly Stopwatch _clock;
    private readonly long _origin;
    // In the order things happened: an event raised after its send finished (an HTTP POST with its status) is placed
    // where the send began — an answer that arrived while the POST was still open must not come first.
    private readonly List<(WireEvent Event, string Peer, long At)> _events = [];
    private readonly Lock _gate = new();
    private readonly List<(Func<WireEvent, bool> Match, TaskCompletionSource<WireEvent> Done)> _waiters = [];

    public WireTap(Stopwatch clock)
    {
        _clock = clock;
        _origin = Stopwatch.GetTimestamp() - clock.Elapsed.Ticks * Stopwatch.Frequency / TimeSpan.TicksPerSecond;
    }

    private long Ms(long timestamp) => (timestamp - _origin) * 1000 / Stopwatch.Frequency;

    public void Attach(ReferenceAgent agent, string peerName) => agent.Wire += e => Record(e, peerName);

    private long _lastRecordedMs;

    public void Record(WireEvent e, string peerName)
    {
        lock (_gate)
        {
            _lastRecordedMs = _clock.ElapsedMilliseconds;
            var at = e.SentTimestamp is { } sent && sent >= _origin ? sent : Stopwatch.GetTimestamp();
            var i = _events.Count;
            while (i > 0 && _events[i - 1].At > at) i--;
            _events.Insert(i, (e, peerName, at));
            foreach (var w in _waiters.ToList())
                if (w.Match(e))
                {
                    _waiters.Remove(w);
                    w.Done.TrySetResult(e);
                }
        }
    }

    public IReadOnlyList<WireEvent> Events { get { lock (_gate) return _events.Select(x => x.Event).ToList(); } }

    /// <summary>Waits until nothing new was recorded for <paramref name="quiet"/> (at most <paramref name="max"/>).</summary>
    public async Task QuietAsync(TimeSpan quiet, TimeSpan max)
    {
        var until = _clock.Elapsed + max;
        while (_clock.Elapsed < until)
        {
            long last;
            lock (_gate) last = _lastRecordedMs;
            var idle = _clock.ElapsedMilliseconds - last;
            if (idle >= quiet.TotalMilliseconds) return;
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(10, quiet.TotalMilliseconds - idle)));
        }
    }

    /// <summary>Messages received by the reference side (i.e. sent by the agent under test), in order.</summary>
    public IReadOnlyList<WireEvent> Inbound => Events.Where(e => e.Direction == "in").ToList();

    public IReadOnlyList<WireEvent> Outbound => Events.Where(e => e.Direction == "out").ToList();

    /// <summary>Received messages whose @type ends with "/<paramref name="name"/>" (e.g. "response", "problem_report").</summary>
    public IReadOnlyList<WireEvent> Received(string name) => Inbound.Where(e => TypeNameIs(e, name)).ToList();

    public static bool TypeNameIs(WireEvent e, string name) =>
        e.Type != null && (e.Type.EndsWith("/" + name, StringComparison.Ordinal) || e.Type == name);

    /// <summary>Waits for a matching event (already recorded ones count); null on timeout.</summary>
    public async Task<WireEvent?> WaitAsync(Func<WireEvent, bool> match, TimeSpan timeout, CancellationToken ct = default)
    {
        TaskCompletionSource<WireEvent> tcs;
        lock (_gate)
        {
            var existing = _events.Select(x => x.Event).FirstOrDefault(match);
            if (existing != null) return existing;
            tcs = new TaskCompletionSource<WireEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, tcs));
        }
        var done = await Task.WhenAny(tcs.Task, Task.Delay(timeout, ct));
        if (done == tcs.Task) return await tcs.Task;
        lock (_gate) _waiters.RemoveAll(w => w.Done == tcs);
        return null;
    }

    /// <summary>Waits for the agent under test to send a message named <paramref name="name"/> (optionally matching).</summary>
    public Task<WireEvent?> WaitForInboundAsync(string name, TimeSpan timeout, Func<JsonObject, bool>? where = null, CancellationToken ct = default) =>
        WaitAsync(e => e.Direction == "in" && TypeNameIs(e, name) && e.Plaintext != null && (where == null || where(e.Plaintext)), timeout, ct);

    /// <summary>The recorded wire as report records.</summary>
    public List<WireRecord> ToRecords()
    {
        lock (_gate)
        {
            var list = new List<WireRecord>();
            int seq = 0;
            foreach (var (e, peer, at) in _events)
            {
                // "relay" events come from a fault relay (Faults/FaultRelay.cs): what it did, not a message.
                var direction = e.Direction switch { "out" => $"{peer} -> aut", "in" => $"aut -> {peer}", _ => peer };
                list.Add(new WireRecord(++seq, Ms(at), direction, e.Type, e.Transport, e.Endpoint, e.Envelope,
                    e.Plaintext?.DeepClone() as JsonObject, e.Note));
            }
            return list;
        }
    }
}
