using System.Text.Json;

namespace Dclm.Models.Tests;

/// <summary>The prompt, greedy continuation and logits computed by an independent open_lm implementation.</summary>
public sealed record ReferenceFixture(string Directory, int[] Prompt, int[] GreedyContinuation, float[] Logits, int Vocabulary)
{
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
        Assert.Equal(shape[0] * shape[1], logits.Length);
        return new ReferenceFixture(directory, Ids("prompt_token_ids"), Ids("greedy_continuation_token_ids"), logits, shape[1]);
    }

    /// <summary>max |ours − reference| / max |reference|, the acceptance measure.</summary>
    public double RelativeError(ReadOnlySpan<float> ours)
    {
        Assert.Equal(Logits.Length, ours.Length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < Logits.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(ours[i] - Logits[i]));
            maxRef = Math.Max(maxRef, Math.Abs(Logits[i]));
        }
        return maxDiff / maxRef;
    }
}
