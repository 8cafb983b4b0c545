// @satyamark/react: SatyaMark in React. Import the stylesheet once:
//   import "@satyamark/react/badge.css";

export {
  SatyaMarkProvider,
  useClient,
  useConnectionState,
  useSatyaMark,
  useSession,
} from "./context.js";
export { describeProgress, useVerification } from "./useVerification.js";
export type { Verification, VerificationStatus } from "./useVerification.js";
export { MarkBadge, MarkIcon } from "./MarkBadge.js";
export { SatyaMarkBadge } from "./SatyaMarkBadge.js";
