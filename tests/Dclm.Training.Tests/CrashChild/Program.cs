using Dclm.Training;
using Dclm.Training.Configuration;

// Usage: Dclm.Training.CrashChild DATA OUTPUT [hang]. Trains a small byte-level model, checkpointing after
// every update, until killed. With "hang", the third checkpoint this process writes stops just before its
// rename, after printing "hanging PARTIAL" (the half-committed checkpoint's folder), so the test kills it
// mid-write for certain, the moment it reads that line.
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
        Console.WriteLine($"hanging {partial}");
        Thread.Sleep(Timeout.Infinite);
    };
Console.WriteLine($"started at step {run.Resumed?.Step ?? 0}");
new Trainer(run).Run();
