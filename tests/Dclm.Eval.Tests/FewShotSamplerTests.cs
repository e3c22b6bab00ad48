using System.Diagnostics;
using System.Text.Json;
using Dclm.Eval.Prompting;

namespace Dclm.Eval.Tests;

/// <summary>Shot indices and their order match CPython running llm-foundry's sampling procedure.</summary>
public sealed class FewShotSamplerTests
{
    // llm-foundry's get_fewshot_sample_idxs, driven over every item in order with one shared generator.
    private const string Script = """
        import json, random, sys
        def idxs(size, k, i, rng):
            k = min(size - 1, k)
            chosen = set(rng.sample(range(0, size), k))
            if i in chosen:
                chosen.remove(i)
                if len(chosen) >= size - 1:
                    return chosen
                r = rng.choice(range(0, size))
                while r in chosen or r == i:
                    r = rng.choice(range(0, size))
                chosen.add(r)
            return chosen
        out = []
        for size, k, seed, items in json.loads(sys.argv[1]):
            rng = random.Random(seed)
            out.append([list(idxs(size, k, i, rng)) for i in range(items)])
        print(json.dumps(out))
        """;

    [Fact]
    public void MatchesCPython()
    {
        // Small and large datasets (both of CPython's sample methods), k from 1 to 25 (set resizes), seeds incl. llm-foundry's 1234.
        int[][] cases = [[3, 2, 1234, 3], [10, 5, 1234, 10], [20, 3, 1234, 20], [100, 5, 1234, 40], [1587, 5, 1234, 30],
            [1587, 10, 7, 20], [50, 25, 1234, 10], [10042, 10, 1234, 15], [6, 5, 99, 6], [2, 1, 1234, 2], [1000, 1, 0, 30]];
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        start.ArgumentList.Add(JsonSerializer.Serialize(cases));
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);
        var expected = JsonSerializer.Deserialize<int[][][]>(output)!;
        for (int c = 0; c < cases.Length; c++)
        {
            int size = cases[c][0], shots = cases[c][1], seed = cases[c][2], items = cases[c][3];
            var sampler = new FewShotSampler(size, seed);
            for (int i = 0; i < items; i++)
                Assert.True(expected[c][i].SequenceEqual(sampler.Sample(shots, i)), $"size {size}, k {shots}, seed {seed}, item {i}: python [{string.Join(", ", expected[c][i])}]");
        }
    }

    [Fact]
    public void MersenneTwisterMatchesPythonsFirstDraws()
    {
        // python3 -c "import random; r = random.Random(1234); print([r.getrandbits(32) for _ in range(3)])"
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import random; r = random.Random(1234); print(' '.join(str(r.getrandbits(32)) for _ in range(700)))");
        using var process = Process.Start(start)!;
        var expected = process.StandardOutput.ReadToEnd().Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(uint.Parse).ToArray();
        process.WaitForExit();
        var random = new PythonRandom(1234);
        Assert.Equal(expected, Enumerable.Range(0, 700).Select(_ => random.NextUInt32()).ToArray());
    }
}
