import { z } from 'zod';
import type { KubeRest } from './rest.ts';

/** authentication.k8s.io/v1 (GA in 1.28): every authenticated user may ask who the API server thinks they are. */
export const SELF_SUBJECT_REVIEWS = '/apis/authentication.k8s.io/v1/selfsubjectreviews';

const reviewSchema = z.looseObject({
  status: z.looseObject({
    userInfo: z.looseObject({
      username: z.string().min(1),
      groups: z.array(z.string()).optional(),
    }),
  }),
});

/**
 * The caller's username as the API server authenticates it (what admission's userInfo will say),
 * which a kubeconfig's user entry name is not: that is only a local label for the credentials.
 */
export async function whoAmI(
  rest: KubeRest,
): Promise<{ username: string; groups: readonly string[] }> {
  const review = reviewSchema.parse(
    await rest.create(SELF_SUBJECT_REVIEWS, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    }),
  );
  return { username: review.status.userInfo.username, groups: review.status.userInfo.groups ?? [] };
}
