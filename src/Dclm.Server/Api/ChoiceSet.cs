using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Dclm.Inference.Engine;
using Microsoft.AspNetCore.Http;

namespace Dclm.Server.Api;

/// <summary>
/// The n sequences of one request (OpenAI's <c>n</c>): submitted together, each choice with its own
/// seed, and cancelled together when the client goes away or the response fails.
/// </summary>
internal sealed class ChoiceSet : IDisposable
{
    private readonly CancellationTokenSource _cancel;

    private ChoiceSet(CancellationTokenSource cancel, GenerationStream[] streams) => (_cancel, Streams) = (cancel, streams);

    /// <summary>One update stream per choice, in choice order.</summary>
    public GenerationStream[] Streams { get; }

    /// <summary>Submits <paramref name="count"/> requests; a full queue refuses all of them with 429.</summary>
    public static ChoiceSet Submit(InferenceEngine engine, Func<int, GenerationRequest> request, int count, CancellationToken aborted)
    {
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var streams = new GenerationStream[count];
        try
        {
            for (int i = 0; i < count; i++) streams[i] = engine.Submit(request(i), cancel.Token);
        }
        catch (EngineBusyException e)
        {
            // Choices already queued leave with the refused one.
            cancel.Cancel();
            cancel.Dispose();
            throw new ApiException(StatusCodes.Status429TooManyRequests, $"the server is busy: {e.Message}; retry later", code: "queue_full");
        }
        return new ChoiceSet(cancel, streams);
    }

    /// <summary>The updates of every choice as they arrive, tagged with the choice index.</summary>
    public async IAsyncEnumerable<(int Choice, GenerationUpdate Update)> MergeAsync([EnumeratorCancellation] CancellationToken cancellation)
    {
        if (Streams.Length == 1)
        {
            await foreach (var update in Streams[0].WithCancellation(cancellation)) yield return (0, update);
            yield break;
        }
        var merged = Channel.CreateUnbounded<(int, GenerationUpdate)>(new UnboundedChannelOptions { SingleReader = true });
        var pumps = Streams.Select(async (stream, choice) =>
        {
            await foreach (var update in stream.WithCancellation(cancellation)) await merged.Writer.WriteAsync((choice, update), cancellation);
        }).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(done => merged.Writer.TryComplete(done.Exception?.InnerException), TaskScheduler.Default);
        await foreach (var item in merged.Reader.ReadAllAsync(cancellation)) yield return item;
    }

    /// <summary>
    /// Usage of the whole request: the prompt once, the completions of every choice, and as cached the
    /// most any choice reused (choices after the first share the prompt's blocks the first computed).
    /// </summary>
    public static GenerationUsage Combine(IReadOnlyList<GenerationUsage> usages) =>
        new(usages[0].PromptTokens, usages.Sum(u => u.CompletionTokens), usages.Max(u => u.CachedTokens));

    /// <summary>Cancels whatever choice is still running (nothing, after a complete response).</summary>
    public void Dispose()
    {
        _cancel.Cancel();
        _cancel.Dispose();
    }
}
