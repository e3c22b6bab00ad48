using System.Globalization;
using System.Text.RegularExpressions;
using Dclm.Server.Hosting;
using Dclm.TestSupport;
using Dclm.Tokenizers;

namespace Dclm.Server.Tests;

/// <summary>
/// Output-stability metrics end to end: a degenerate model that repeats one token forever (its logits are known in
/// closed form, so the exported mean log-probability and entropy are checked against them) moves the repetition metric,
/// trips the drift alarm and, under JSON mode, counts a reply that does not parse; a scripted model that says a short
/// JSON object of distinct tokens does none of that.
/// </summary>
[Collection("server")]
public sealed class OutputStabilityServingTests
{
    private const float Logit = 12f;
    private const string Template = "{% for m in messages %}{{ m.content }}\n{% endfor %}";
    private static readonly string VocabularyPath = Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf");
    private static readonly Lazy<Tokenizer> NeoX = new(() => Tokenizer.Load(VocabularyPath));

    [Fact]
    public async Task ARepeatingModelMovesTheRepetitionMetricAndTripsTheDriftAlarm()
    {
        int token = NeoX.Value.Encode(" the")[0];
        string directory = Directory.CreateTempSubdirectory("dclm-stability-").FullName;
        try
        {
            string model = TinyNeoXModels.WriteRepeating(directory, VocabularyPath, token, Logit, Template);
            var drift = new DriftOptions { Window = 3, Bands = new Dictionary<string, DriftBand> { ["repetition"] = DriftBand.Parse("0:0.5", "--drift-repetition") } };
            await using var server = await DclmServer.StartAsync(ServerFixture.Options() with { ModelPath = model, Drift = drift });
            await server.Host.Loading;
            using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) };

            for (int i = 0; i < 3; i++)
            {
                using var response = await client.PostAsync("/v1/completions", ServerFixture.Json("""{"prompt": "Once upon a time", "max_tokens": 16, "temperature": 0}"""));
                Assert.Equal(200, (int)response.StatusCode);
                Assert.Equal(string.Concat(Enumerable.Repeat(" the", 16)), System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
            }
            string metrics = await client.GetStringAsync("/metrics");
            // 16 equal tokens: 13 4-grams, one distinct.
            Assert.Equal(1 - 1 / 13.0, Value(metrics, "dclm_output_repetition_rate_sum") / 3, 9);
            Assert.Equal(3, Value(metrics, "dclm_output_truncated_total"));
            Assert.Equal(0, Value(metrics, "dclm_output_empty_total"));
            Assert.Equal(1, Value(metrics, "dclm_output_drift_alarm{signal=\"repetition\"}"));
            Assert.Equal(0, Value(metrics, "dclm_output_drift_alarm{signal=\"entropy\"}")); // no band, no alarm

            // The logits are (c for the token, 0 for the other V−1 ids) at every step: log p = c − log Z and
            // H = log Z − c·e^c/Z with Z = e^c + V − 1, computed here in double from that definition.
            var logits = TinyNeoXModels.RepeatingLogits(token, Logit, normEps: 1e-5f); // open_lm's ε, which the model keeps
            double c = logits[token], z = Math.Exp(c) + (logits.Length - 1);
            double logprob = c - Math.Log(z), entropy = Math.Log(z) - c * Math.Exp(c) / z;
            Assert.Equal(3, Value(metrics, "dclm_output_mean_logprob_count"));
            Assert.Equal(logprob, Value(metrics, "dclm_output_mean_logprob_sum") / 3, 3);
            Assert.Equal(entropy, Value(metrics, "dclm_output_mean_entropy_nats_sum") / 3, 3);
            Assert.Equal(entropy, Value(metrics, "dclm_output_window_mean{signal=\"entropy\"}"), 3);

            // JSON mode: the model's one token is masked, so the reply wanders inside the object until max_tokens cuts it.
            using var json = await client.PostAsync("/v1/chat/completions", ServerFixture.Json(
                """{"messages": [{"role": "user", "content": "JSON please"}], "max_tokens": 6, "temperature": 0, "response_format": {"type": "json_object"}}"""));
            Assert.Equal(200, (int)json.StatusCode);
            metrics = await client.GetStringAsync("/metrics");
            Assert.Equal(1, Value(metrics, "dclm_output_json_replies_total{mode=\"json_object\"}"));
            Assert.Equal(1, Value(metrics, "dclm_output_json_failures_total{mode=\"json_object\"}"));
        }
        finally { Directory.Delete(directory, recursive: true); }
    }

    [Fact]
    public async Task AModelThatDoesNotRepeatLeavesTheRepetitionMetricAtZero()
    {
        const string reply = "{\"city\": \"Paris\", \"country\": \"France\"}";
        int[] script = NeoX.Value.Encode(reply);
        string directory = Directory.CreateTempSubdirectory("dclm-stability-").FullName;
        try
        {
            string model = TinyNeoXModels.WriteScripted(directory, contextLength: 256, VocabularyPath, Template, script);
            var drift = new DriftOptions { Window = 2, Bands = new Dictionary<string, DriftBand> { ["repetition"] = DriftBand.Parse("0:0.5", "--drift-repetition") } };
            await using var server = await DclmServer.StartAsync(ServerFixture.Options() with { ModelPath = model, Drift = drift });
            await server.Host.Loading;
            using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) };
            for (int i = 0; i < 2; i++)
            {
                using var response = await client.PostAsync("/v1/chat/completions", ServerFixture.Json(
                    """{"messages": [{"role": "user", "content": "Where?"}], "max_tokens": 40, "temperature": 0, "response_format": {"type": "json_object"}}"""));
                Assert.Equal(200, (int)response.StatusCode);
            }
            string metrics = await client.GetStringAsync("/metrics");
            Assert.Equal(2, Value(metrics, "dclm_output_repetition_rate_count"));
            Assert.Equal(0, Value(metrics, "dclm_output_repetition_rate_sum"));
            Assert.Equal(0, Value(metrics, "dclm_output_truncated_total"));
            Assert.Equal(0, Value(metrics, "dclm_output_drift_alarm{signal=\"repetition\"}"));
            Assert.Equal(2, Value(metrics, "dclm_output_json_replies_total{mode=\"json_object\"}"));
            Assert.DoesNotMatch("dclm_output_json_failures_total\\{mode=\"json_object\"\\} [1-9]", metrics);
        }
        finally { Directory.Delete(directory, recursive: true); }
    }

    [Fact]
    public void TheDriftWindowReportsOnceWhenItsMeanLeavesTheBandAndOnceWhenItReturns()
    {
        var lines = new List<string>();
        var window = new DriftWindow("repetition", 3, DriftBand.Parse(":0.5", "--drift-repetition"), lines.Add);
        foreach (double v in new[] { 0.9, 0.9 }) window.Add(v);
        Assert.False(window.Alarm); // judged only once the window is full
        window.Add(0.9);
        Assert.True(window.Alarm);
        window.Add(0.9);
        Assert.Single(lines);
        Assert.Contains("outside the band", lines[0]);
        foreach (double v in new[] { 0.0, 0.0 }) window.Add(v); // mean 0.3
        Assert.False(window.Alarm);
        Assert.Equal(0.3, window.Mean, 12);
        Assert.Equal(2, lines.Count);
        Assert.Contains("cleared", lines[1]);
        Assert.Throws<ArgumentException>(() => DriftBand.Parse("1:0", "--drift-entropy"));
        Assert.Throws<ArgumentException>(() => DriftBand.Parse("abc", "--drift-entropy"));
    }

    /// <summary>The value of the sample <paramref name="series"/> (name with its labels, as exported) in Prometheus text.</summary>
    private static double Value(string metrics, string series)
    {
        var match = Regex.Match(metrics, "^" + Regex.Escape(series) + " (\\S+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"{series} is not in /metrics:\n{metrics}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
