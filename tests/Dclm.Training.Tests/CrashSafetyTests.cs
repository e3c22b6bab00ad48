using System.Diagnostics;
using Dclm.Training.Checkpointing;
using Dclm.Training.Optimization;

namespace Dclm.Training.Tests;

/// <summary>kill -9 of a training process while it writes a checkpoint never damages the last good one.</summary>
public class CrashSafetyTests
{
    [Fact]
    public void KillDuringCheckpointWriteLeavesTheLastGoodCheckpointLoadable()
    {
        string directory = TrainingFixtures.TemporaryDirectory();
        string data = TrainingFixtures.WriteByteTokens(directory, TrainingFixtures.Text, repeat: 2);
        string output = Path.Combine(directory, "run");
        int lastStep = 0;
        // Three runs, each killed inside its third checkpoint write; each restart resumes from the newest good checkpoint.
        for (int run = 0; run < 3; run++)
        {
            using var child = Start(data, output);
            // The child says when it stops inside the write (every file of the checkpoint written, not yet renamed); a thread
            // of its own, blocked on the pipe, takes the line.
            var said = new List<string>();
            string? partial = null;
            var reader = new Thread(() =>
            {
                while (child.StandardOutput.ReadLine() is { } line)
                {
                    lock (said) said.Add(line);
                    if (line.StartsWith("hanging ", StringComparison.Ordinal)) { partial = line["hanging ".Length..]; return; }
                }
            }) { IsBackground = true };
            reader.Start();
            if (!reader.Join(TimeSpan.FromMinutes(6))) child.Kill(entireProcessTree: true); // a hung child only, never a speed check
            if (partial is null)
            {
                child.WaitForExit();
                lock (said) Assert.Fail($"the training process never reached a checkpoint write: {string.Join(" | ", said)} {child.StandardError.ReadToEnd()}");
            }
            child.Kill(entireProcessTree: true); // SIGKILL: no finally blocks, no flushing
            child.WaitForExit();
            Assert.True(Directory.Exists(partial), $"the kill should leave the half-committed checkpoint behind: \"{partial}\"");

            var store = new CheckpointStore(output, 2);
            Assert.NotEmpty(store.List());
            Assert.DoesNotContain(partial, store.List());
            foreach (var checkpoint in store.List())
            {
                var parameters = new ModelParameters(Dclm.Models.ModelConfig.OpenLm(64, 2, 2, 256, 32));
                var state = CheckpointStore.Load(checkpoint, directory => ModelWeightsReader.Read(directory, parameters), new AdamW(parameters.Tensors, new AdamWOptions()));
                Assert.True(state.Step >= lastStep, $"{checkpoint}: step {state.Step} went backwards from {lastStep}");
                Assert.All(parameters.Tensors.SelectMany(t => t.Values), v => Assert.True(float.IsFinite(v)));
            }
            int newest = store.List().Select(c => int.Parse(Path.GetFileName(c)["step-".Length..])).Max();
            // Each restart resumes from the newest complete checkpoint and gets two more in before it hangs.
            Assert.Equal(lastStep + 2, newest);
            lastStep = newest;
        }
    }

    private static Process Start(string data, string output)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Dclm.Training.CrashChild.dll"));
        start.ArgumentList.Add(data);
        start.ArgumentList.Add(output);
        start.ArgumentList.Add("hang");
        return Process.Start(start)!;
    }
}
