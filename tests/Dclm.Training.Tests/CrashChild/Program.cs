using Dclm.Training;
using Dclm.Training.Configuration;

// Usage: Dclm.Training.CrashChild DATA OUTPUT [hang]. Trains a small byte-level model, checkpointing after
// every update, until killed. With "hang", the third checkpoint this process writes stops just before its
// rename, after writing a "hanging" marker next to the run, so the test can kill it mid-write for certain.
var options = new TrainingOptions
{
    Sources = new Dictionary<string, string> { ["text"] = args[0] },
    Output = args[1], Dim = 64, Layers = 2, Heads = 2, VocabularySize = 256, SequenceLength = 32, BatchSize = 2,
    Steps = 100_000, Warmup = 5, ValidationFraction = 0, EvalEvery = 0, CheckpointEvery = 1, KeepCheckpoints = 2, Threads = 1, Seed = 9,
};
using var run = TrainingRun.Create(options);
int written = 0;
if (args.Length > 2 && args[2] == "hang")
    run.Checkpoints.Committing = partial =>
    {
        if (++written < 3) return;
        // Written aside and renamed, so the test never reads a marker that exists but is still empty.
        string marker = Path.Combine(args[1], "hanging");
        File.WriteAllText(marker + ".tmp", partial);
        File.Move(marker + ".tmp", marker, overwrite: true);
        Thread.Sleep(Timeout.Infinite);
    };
Console.WriteLine($"started at step {run.Resumed?.Step ?? 0}");
new Trainer(run).Run();
