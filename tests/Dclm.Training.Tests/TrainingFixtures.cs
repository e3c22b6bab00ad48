using System.Buffers.Binary;
using Dclm.Training.Configuration;

namespace Dclm.Training.Tests;

/// <summary>Small runs: byte-level tokens of a short text written as a .bin token file.</summary>
internal static class TrainingFixtures
{
    public const string Text = "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, "
        + "it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness.";

    public static string TemporaryDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "dclm-training-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Writes the UTF-8 bytes of <paramref name="text"/> as uint32 tokens (vocabulary 256).</summary>
    public static string WriteByteTokens(string directory, string text, int repeat = 1)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(text, repeat)));
        var data = new byte[bytes.Length * 4];
        for (int i = 0; i < bytes.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(i * 4), bytes[i]);
        string path = Path.Combine(directory, "text.bin");
        File.WriteAllBytes(path, data);
        return path;
    }

    public static TrainingOptions Tiny(string data, string output) => new()
    {
        Sources = new Dictionary<string, string> { ["text"] = data },
        Output = output, Dim = 32, Layers = 2, Heads = 2, VocabularySize = 256, SequenceLength = 32, BatchSize = 4,
        Steps = 20, LearningRate = 3e-3, MinLearningRate = 3e-4, Warmup = 5, ValidationFraction = 0, EvalEvery = 0,
        CheckpointEvery = 0, Threads = 2, Seed = 5,
    };
}
