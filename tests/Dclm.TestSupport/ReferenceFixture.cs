using System.Text.Json;
using Dclm.Models;

namespace Dclm.TestSupport;

/// <summary>The prompt, greedy continuation and logits computed by an independent open_lm implementation.</summary>
public sealed record ReferenceFixture(string Directory, int[] Prompt, int[] GreedyContinuation, float[] Logits, int Vocabulary)
{
    /// <summary>Reads <c>fixtures/<paramref name="name"/>/reference.json</c> from the test's output directory.</summary>
    public static ReferenceFixture Load(string name)
    {
        string directory = Path.Combine(AppContext.BaseDirectory, "fixtures", name);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "reference.json")));
        var root = json.RootElement;
        int[] Ids(string key) => root.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var shape = Ids("logits_shape");
        var bytes = File.ReadAllBytes(Path.Combine(directory, root.GetProperty("logits_file").GetString()!));
        var logits = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, logits, 0, bytes.Length);
        if (shape[0] * shape[1] != logits.Length)
            throw new InvalidDataException($"{name}: logits file holds {logits.Length} values, logits_shape says {shape[0]}x{shape[1]}");
        return new ReferenceFixture(directory, Ids("prompt_token_ids"), Ids("greedy_continuation_token_ids"), logits, shape[1]);
    }

    /// <summary>max |ours − reference| / max |reference|, the acceptance measure.</summary>
    public double RelativeError(ReadOnlySpan<float> ours)
    {
        if (ours.Length != Logits.Length)
            throw new ArgumentException($"{ours.Length} logits compared with {Logits.Length} reference logits", nameof(ours));
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < Logits.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(ours[i] - Logits[i]));
            maxRef = Math.Max(maxRef, Math.Abs(Logits[i]));
        }
        return maxDiff / maxRef;
    }

    /// <summary>The logits of every position of <paramref name="prompt"/>, (prompt length, vocabulary), from a fresh cache.</summary>
    public static float[] AllLogits(DecoderModel model, int[] prompt)
    {
        var logits = new float[prompt.Length * model.Config.VocabularySize];
        model.Forward(ForwardBatch.Sequence(prompt, 0, allLogits: true), model.CreateCache(), logits);
        return logits;
    }
}
