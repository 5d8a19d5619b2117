export type {
  Classification,
  ClassifierOptions,
  ClassifierStats,
  IntentClassifier,
  TrainingExample,
} from "./classification.ts";
export { trainClassifier } from "./train-classifier.ts";
