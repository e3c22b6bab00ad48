using System.Runtime.ExceptionServices;

namespace Dclm.Data.Pipeline;

/// <summary><see cref="Parallel.ForEach{TSource}(IEnumerable{TSource}, ParallelOptions, Action{TSource})"/> that rethrows the first failure itself, so callers see e.g. the InvalidDataException naming a bad file rather than an AggregateException.</summary>
internal static class ParallelWork
{
    public static void ForEach<T>(IEnumerable<T> items, int threads, CancellationToken cancellation, Action<T> body)
    {
        try
        {
            Parallel.ForEach(items, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads), CancellationToken = cancellation }, body);
        }
        catch (AggregateException error) when (error.InnerExceptions.Count > 0)
        {
            var first = error.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) ?? error.InnerExceptions[0];
            ExceptionDispatchInfo.Capture(first).Throw();
        }
    }
}
