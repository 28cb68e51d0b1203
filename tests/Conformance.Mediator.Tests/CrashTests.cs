using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Conformance.Mediator.Tests;

/// <summary>
/// Crash safety: the mediator runs as a separate process (this test assembly's <see cref="TestHostProgram"/>, which runs
/// <see cref="MediatorCommand.Run"/> exactly like <c>conformance mediator</c>), is killed with SIGKILL while forwards are
/// in flight, and is restarted on the same database. Every forward that was acknowledged (HTTP 202) must be delivered
/// exactly once; forwards that were in flight may or may not have been stored, but never twice — re-sending them after
/// the restart either stores them (they were lost before being acknowledged) or is refused as a replay.
/// </summary>
[NonParallelizable]
public class CrashTests
{
    private sealed class MediatorProcess : IAsyncDisposable
    {
        public required Process Process;
        public required string Did;
        public readonly StringBuilder Stderr = new();

        public static async Task<MediatorProcess> StartAsync(int port, string db)
        {
            var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet";
            var psi = new ProcessStartInfo(dotnet)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { typeof(TestHostProgram).Assembly.Location, "mediator-host", "--port", port.ToString(), "--db", db })
                psi.ArgumentList.Add(a);
            var p = Process.Start(psi)!;
            var stderr = new StringBuilder();
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
            p.BeginErrorReadLine();
            var line = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            if (line is null) throw new InvalidOperationException("the mediator process printed nothing: " + stderr);
            var info = JsonNode.Parse(line)!;
            return new MediatorProcess { Process = p, Did = info["did"]!.GetValue<string>() };
        }

        public void KillHard()
        {
            Process.Kill();   // SIGKILL on Linux: no shutdown code runs
            Process.WaitForExit(10_000);
        }

        public ValueTask DisposeAsync()
        {
            if (!Process.HasExited) KillHard();
            Process.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [Test]
    public async Task Sigkill_under_load_loses_nothing_acknowledged_and_duplicates_nothing()
    {
        var dir = Directory.CreateTempSubdirectory("mediator-crash-").FullName;
        var db = Path.Combine(dir, "mediator.db");
        var port = FreePort();
        try
        {
            string did;
            var acked = new ConcurrentBag<string>();          // inner envelopes whose forward got its 202
            var unacked = new ConcurrentBag<string>();        // forward envelopes in flight when the process died
            var inners = new ConcurrentDictionary<string, string>();   // forward envelope -> inner envelope
            V2Client bob, alice;

            await using (var m = await MediatorProcess.StartAsync(port, db))
            {
                did = m.Did;
                bob = new V2Client(did);
                alice = new V2Client(did);
                await bob.RequestMediationAsync();
                await bob.AddKeysAsync(bob.Did);

                // Phase 1: N forwards, each awaited.
                const int n = 200;
                await Parallel.ForAsync(0, n, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
                {
                    var inner = alice.PackFor(new V2Message { Id = "p1-" + i, Type = MessageTypes.BasicMessageMessage, To = [bob.Did], Body = new JsonObject { ["content"] = "p1 " + i } }, bob.Did);
                    var r = await alice.ForwardAsync(inner, bob.Did, ct: ct);
                    Assert.That(r.StatusCode, Is.EqualTo(202));
                    acked.Add(inner);
                });

                // Phase 2: keep forwarding from 8 loops and SIGKILL the mediator in the middle of it.
                using var stop = new CancellationTokenSource();
                var counter = 0;
                var loops = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        var i = Interlocked.Increment(ref counter);
                        var inner = alice.PackFor(new V2Message { Id = "p2-" + i, Type = MessageTypes.BasicMessageMessage, To = [bob.Did], Body = new JsonObject { ["content"] = "p2 " + i } }, bob.Did);
                        var forward = alice.WrapForward(inner, bob.Did);
                        inners[forward] = inner;
                        try
                        {
                            var r = await alice.PostEnvelopeAsync(forward);
                            if (r.StatusCode == 202) { acked.Add(inner); continue; }
                            unacked.Add(forward);
                        }
                        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                        {
                            unacked.Add(forward);
                            return;   // the mediator is gone
                        }
                    }
                })).ToArray();
                while (Volatile.Read(ref counter) < 150) await Task.Delay(5);
                m.KillHard();
                stop.Cancel();
                await Task.WhenAll(loops);
                Assert.That(m.Process.ExitCode, Is.Not.Zero, "killed, not stopped");
            }

            await using (var m = await MediatorProcess.StartAsync(port, db))
            {
                Assert.That(m.Did, Is.EqualTo(did), "same database, same port: same identity and DID");

                // Re-send what was in flight: each is either stored now (it was lost before its 202) or refused as a replay.
                var resent = 0;
                foreach (var forward in unacked)
                {
                    var r = await alice.PostEnvelopeAsync(forward);
                    if (r.StatusCode == 202) { resent++; acked.Add(inners[forward]); continue; }
                    Assert.That(r.Problem?.Code, Is.EqualTo(ProblemCodes.Dejavu), $"HTTP {r.StatusCode} {r.Body}");
                    acked.Add(inners[forward]);   // it had been stored before the crash: it must be in the queue
                }
                TestContext.Out.WriteLine($"acknowledged before the kill: {acked.Count - unacked.Count}, in flight: {unacked.Count}, stored only on re-send: {resent}");

                // Pickup returns every acknowledged envelope exactly once, and nothing else.
                var got = new List<string>();
                while (true)
                {
                    var d = await bob.DeliveryRequestAsync(500);
                    if (d.Messages.Count == 0) break;
                    got.AddRange(d.Messages.Select(x => Encoding.UTF8.GetString(x.Envelope)));
                    await bob.MessagesReceivedAsync(d.Messages.Select(x => x.Id));
                }
                Assert.That(got, Has.Count.EqualTo(got.Distinct().Count()), "no duplicates");
                Assert.That(got, Is.EquivalentTo(acked.Distinct()), "every acknowledged forward, exactly once");
                Assert.That(got.Count(g => acked.Contains(g)), Is.GreaterThanOrEqualTo(200));
                Assert.That((await bob.StatusAsync()).MessageCount, Is.Zero);
            }
            await bob.DisposeAsync();
            await alice.DisposeAsync();
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    [Test]
    public async Task Sigterm_stops_the_mediator_cleanly()
    {
        var dir = Directory.CreateTempSubdirectory("mediator-term-").FullName;
        try
        {
            await using var m = await MediatorProcess.StartAsync(FreePort(), Path.Combine(dir, "m.db"));
            Process.Start("kill", ["-TERM", m.Process.Id.ToString()])!.WaitForExit();
            Assert.That(m.Process.WaitForExit(20_000), Is.True);
            Assert.That(m.Process.ExitCode, Is.Zero);
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}
